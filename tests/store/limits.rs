//! The rate-limit store's conformance tests, on every backend.

use crate::accounts::stores;

#[tokio::test]
async fn a_rate_limit_window_counts_then_starts_over_so_no_lockout_is_permanent() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let t0 = 1_000_000;
        assert_eq!(accounts.count_request("k", 10_000, t0).await.unwrap(), (1, t0), "{name}");
        assert_eq!(accounts.count_request("k", 10_000, t0 + 5).await.unwrap(), (2, t0), "{name}");
        assert_eq!(accounts.count_request("other", 10_000, t0 + 5).await.unwrap(), (1, t0 + 5));
        assert_eq!(accounts.count_request("k", 10_000, t0 + 9_999).await.unwrap(), (3, t0));
        let next = t0 + 10_000;
        assert_eq!(accounts.count_request("k", 10_000, next).await.unwrap(), (1, next), "{name}");
        accounts.purge_rate_limits(next).await.unwrap();
        assert_eq!(
            accounts.count_request("other", 10_000, next).await.unwrap(),
            (1, next),
            "{name}"
        );
    }
}

#[tokio::test]
async fn reading_a_rate_limit_count_counts_nothing() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let t0 = 2_000_000;
        assert_eq!(accounts.request_count("r", 10_000, t0).await.unwrap(), (0, t0), "{name}");
        accounts.count_request("r", 10_000, t0).await.unwrap();
        accounts.count_request("r", 10_000, t0 + 1).await.unwrap();
        for _ in 0..3 {
            assert_eq!(accounts.request_count("r", 10_000, t0 + 2).await.unwrap(), (2, t0));
        }
        let over = t0 + 10_000;
        assert_eq!(accounts.request_count("r", 10_000, over).await.unwrap(), (0, over), "{name}");
    }
}
