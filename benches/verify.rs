//! Cost of verifying one access token, per algorithm, through the same `TokenVerifier` the
//! extractor uses: `first use` pays for strict parsing, key selection, the signature and the
//! claims; `repeat use` is the same token again, as a client sends it on every request, served by
//! the verified-token cache (claims' times re-checked).
//!
//! Reproduce: `cargo bench --bench verify` (figures recorded in bench/RESULTS.md).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/api/keys.rs"]
mod keys;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use taskgate::domain::auth::jwks::{JwksIssuer, JwksIssuerConfig};
use taskgate::domain::auth::{ClaimPolicy, TokenVerifier, TrustedKey};

use keys::{ALL, ISSUER, JwksServer, TestKey};

const SECRET: &str = "an-hs256-bench-secret-of-at-least-32-bytes";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Signs claims into a token for one case.
type Signer = Box<dyn Fn(&serde_json::Value) -> String>;

/// A fresh token each time, as a first request with it would bring.
fn unique_claims(n: &mut u64) -> serde_json::Value {
    *n += 1;
    let mut claims = keys::access_claims("bench-user");
    claims["jti"] = serde_json::json!(n.to_string());
    claims
}

fn verification(c: &mut Criterion) {
    taskgate::ground::tls::install_tls_provider();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut first_use = c.benchmark_group("verify first use");
    first_use.measurement_time(Duration::from_secs(3));
    let mut cases: Vec<(&str, TokenVerifier, Signer)> = Vec::new();

    // HS256 with the shared secret, claims as Better Auth's HS256 deployments send them.
    let policy = ClaimPolicy {
        issuer: Some(ISSUER.into()),
        audience: Some(ISSUER.into()),
        leeway_seconds: 0,
    };
    let hs256 = TokenVerifier::new(Some(TrustedKey::hs256(SECRET.as_bytes())), policy, Vec::new());
    let sign_hs256 = |claims: &serde_json::Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    cases.push(("HS256", hs256, Box::new(sign_hs256)));

    let mut servers = Vec::new();
    for alg in ALL {
        let key = TestKey::generate(alg, "bench-kid");
        let verifier = runtime.block_on(async {
            let jwks = JwksServer::start(&[&key]).await;
            let config = JwksIssuerConfig {
                jwks_url: jwks.url.clone(),
                issuer: ISSUER.into(),
                audience: ISSUER.into(),
            };
            let issuer = JwksIssuer::new(&config, 0, Duration::from_secs(60)).unwrap();
            assert!(issuer.refresh().await, "the bench JWKS loads");
            servers.push(jwks);
            TokenVerifier::new(None, ClaimPolicy::default(), vec![std::sync::Arc::new(issuer)])
        });
        cases.push((alg.name(), verifier, Box::new(move |claims| key.sign(claims))));
    }

    let mut n = 0;
    for (name, verifier, sign) in &cases {
        first_use.bench_function(*name, |b| {
            b.iter_batched(
                || sign(&unique_claims(&mut n)),
                |token| runtime.block_on(verifier.verify(black_box(&token), now())).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    first_use.finish();

    let mut repeat_use = c.benchmark_group("verify repeat use");
    repeat_use.measurement_time(Duration::from_secs(2));
    for (name, verifier, sign) in &cases {
        let token = sign(&keys::access_claims("bench-user"));
        repeat_use.bench_function(*name, |b| {
            b.iter(|| runtime.block_on(verifier.verify(black_box(&token), now())).unwrap())
        });
    }
    repeat_use.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
