//! The signing-key store's conformance tests, on every backend.

use std::sync::Arc;
use taskgate::domain::accounts::{Session, now};
use taskgate::services::keys::StoredKey;
use taskgate::store::accounts::KeyStore;

use crate::accounts::{stores, user};

#[tokio::test]
async fn the_first_signing_key_stays_the_first() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let key = |kid: &str| StoredKey {
            kid: kid.into(),
            public_key: vec![7; 32],
            sealed_private_key: vec![1; 60],
            created_at: now(),
        };
        let first = accounts.signing_keys_or_insert(&key("first")).await.unwrap();
        let kids: Vec<&str> = first.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["first"], "{name}");
        assert_eq!((first[0].public_key.len(), first[0].sealed_private_key.len()), (32, 60));
        let again = accounts.signing_keys_or_insert(&key("second")).await.unwrap();
        assert_eq!(again, first, "{name}: a key exists, the candidate is not stored");
    }
}

#[tokio::test]
async fn a_rotated_key_signs_and_the_old_one_is_published_until_its_tokens_have_expired() {
    use taskgate::config::TokenAlg;
    use taskgate::domain::auth::OwnKeys;
    use taskgate::services::keys::{RETIRED_KEY_KEPT, Signer, generate, rotate};
    let secret = secrecy::SecretString::from("a-test-secret-of-at-least-32-bytes-long".to_owned());
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let keys: Arc<dyn KeyStore> = accounts.clone();
        let signer =
            Signer::load(&keys, &secret, "http://x".into(), TokenAlg::EdDsa).await.unwrap();
        let ada = user("ada@example.com");
        let (session, _) = Session::start(&ada.id, None, None);
        let kid_of = |jwt: &str| {
            let header = jwt.split('.').next().unwrap();
            let header =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                    .unwrap();
            serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let old_kid = kid_of(&signer.mint(&ada, &session, 0).unwrap());

        let new_kid = rotate(&keys, &secret).await.unwrap();
        let rotated_at = now();
        signer.reload(rotated_at).await.unwrap();
        assert_eq!(kid_of(&signer.mint(&ada, &session, 0).unwrap()), new_kid, "{name}");
        let kids = |signer: &Signer| -> Vec<String> {
            signer.keys().iter().map(|key| key.kid.clone().unwrap()).collect()
        };
        assert_eq!(kids(&signer), [old_kid.clone(), new_kid.clone()], "{name}");
        assert_eq!(signer.jwks().keys.len(), 2, "{name}");

        // Once the old key's last tokens have expired, it is no longer published.
        signer.reload(rotated_at + RETIRED_KEY_KEPT + time::Duration::seconds(1)).await.unwrap();
        assert_eq!(kids(&signer), vec![new_kid.clone()], "{name}");
        assert_eq!(signer.jwks().keys[0].kid, new_kid, "{name}");

        // Adding a key deletes the keys replaced before the time given, not the one it replaces.
        let mut third = generate(&secret).unwrap();
        third.created_at = rotated_at + time::Duration::seconds(1);
        let stored = |keys: Vec<StoredKey>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
        accounts.add_signing_key(&third, third.created_at).await.unwrap();
        let left = stored(accounts.signing_keys().await.unwrap());
        assert_eq!(left, [new_kid.clone(), third.kid.clone()], "{name}");
    }
}
