//! Cost of verifying one access token, per algorithm, through the same `TokenVerifier` the
//! extractor uses (strict parsing, key selection, signature, claims).
//!
//! Reproduce: `cargo bench --bench verify` (figures recorded in bench/README.md).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/api/keys.rs"]
mod keys;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use taskgate::auth::jwks::{JwksIssuer, JwksIssuerConfig};
use taskgate::auth::{ClaimPolicy, TokenVerifier, TrustedKey};

use keys::{ALL, ISSUER, JwksServer, TestKey};

const SECRET: &str = "an-hs256-bench-secret-of-at-least-32-bytes";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn verification(c: &mut Criterion) {
    taskgate::auth::install_tls_provider();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("verify");
    group.measurement_time(Duration::from_secs(3));

    // HS256 with the shared secret, claims as Better Auth's HS256 deployments send them.
    let policy = ClaimPolicy {
        issuer: Some(ISSUER.into()),
        audience: Some(ISSUER.into()),
        leeway_seconds: 0,
    };
    let hs256 = TokenVerifier::new(Some(TrustedKey::hs256(SECRET.as_bytes())), policy, Vec::new());
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &keys::access_claims("bench-user"),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    group.bench_function("HS256", |b| {
        b.iter(|| runtime.block_on(hs256.verify(black_box(&token), now())).unwrap())
    });

    for alg in ALL {
        let key = TestKey::generate(alg, "bench-kid");
        let (verifier, token) = runtime.block_on(async {
            let jwks = JwksServer::start(&[&key]).await;
            let config = JwksIssuerConfig {
                jwks_url: jwks.url.clone(),
                issuer: ISSUER.into(),
                audience: ISSUER.into(),
            };
            let issuer = JwksIssuer::new(&config, 0, Duration::from_secs(60)).unwrap();
            assert!(issuer.refresh().await, "the bench JWKS loads");
            let verifier =
                TokenVerifier::new(None, ClaimPolicy::default(), vec![std::sync::Arc::new(issuer)]);
            (verifier, key.sign(&keys::access_claims("bench-user")))
        });
        runtime.block_on(verifier.verify(&token, now())).unwrap();
        group.bench_function(alg.name(), |b| {
            b.iter(|| runtime.block_on(verifier.verify(black_box(&token), now())).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
