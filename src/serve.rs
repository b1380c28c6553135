//! Serving connections: the accept loop, the caps on open connections (in all and per client
//! address), and the clocks that close connections whose clients are too slow to send headers or
//! stay idle too long.
//!
//! hyper's own header-read timer also runs while a keep-alive connection waits for its next
//! request, so it cannot give a short header timeout and a longer idle timeout at once; each
//! connection here has a small watchdog instead, fed by the bytes it reads and the requests it serves.

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::ground::clock::monotonic_ms;
use crate::ground::slots::{KeyedSlots, Slot};
use crate::ground::telemetry::QuietLog;
use crate::http::HttpService;
use crate::http::edge::{ClientAddr, TrustedProxies, address_key, canonical};

/// Largest request head (request line and headers) a client may send.
const MAX_HEAD_BYTES: usize = 32 * 1024;
const MAX_HEADERS: usize = 64;

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From a connection's start, or from the first byte of a request, to its last header byte.
    pub header_timeout: Duration,
    /// Between the end of a response and the first byte of the next request.
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// Open connections at most from one client address (an IPv6 /64); trusted proxies are exempt.
    pub max_connections_per_address: usize,
    /// On shutdown, how long in-flight requests get to finish.
    pub shutdown_timeout: Duration,
}

/// Connections at most by default: the file-descriptor limit (raised to its hard limit first),
/// less headroom for the database, JWKS fetches, logs and the metrics listener.
pub fn default_max_connections() -> usize {
    const HEADROOM: u64 = 256;
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024);
    usize::try_from(limit.saturating_sub(HEADROOM).max(64)).unwrap_or(usize::MAX)
}

/// Serves `router` on `listener` until `shutdown` completes, then gives in-flight requests
/// `limits.shutdown_timeout` to finish.
pub async fn serve(
    listener: TcpListener,
    router: HttpService,
    limits: ConnectionLimits,
    proxies: TrustedProxies,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = PerAddress::new(limits.max_connections_per_address, proxies);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(MAX_HEAD_BYTES).max_headers(MAX_HEADERS);
    builder.http2().max_header_list_size(MAX_HEAD_BYTES as u32).max_concurrent_streams(128);
    let (refused, refused_address, failed) = (QuietLog::new(), QuietLog::new(), QuietLog::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors (or another transient failure): say so once in a
                    // while, and give connections time to close instead of spinning.
                    if let Some(count) = failed.tick() {
                        tracing::warn!(%error, count, "cannot accept connections");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once: a flood must not turn into a queue of half-open sockets.
            drop(stream);
            crate::ground::metrics::connection_refused("capacity");
            if let Some(count) = refused.tick() {
                tracing::warn!(
                    max = limits.max_connections,
                    count,
                    "connection limit reached: new connections closed"
                );
            }
            continue;
        };
        let Some(address_slot) = per_address.admit(peer.ip()) else {
            drop(stream);
            crate::ground::metrics::connection_refused("per_address");
            if let Some(count) = refused_address.tick() {
                tracing::warn!(
                    client = %canonical(peer.ip()),
                    max = limits.max_connections_per_address,
                    count,
                    "connection limit per address reached: its new connections closed"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let watch = Arc::new(ConnectionWatch::new());
        let io = TokioIo::new(WatchedStream { stream, watch: watch.clone() });
        let service = hyper::service::service_fn({
            let (router, watch) = (router.clone(), watch.clone());
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ClientAddr::peer(peer));
                let served = router.clone().oneshot(request.map(Body::new));
                let finished = RequestFinished(watch.clone());
                watch.request_started();
                async move {
                    let response = served.await;
                    drop(finished);
                    response
                }
            }
        });
        let connection = builder.serve_connection_with_upgrades(io, service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::pin!(connection);
            loop {
                let wake = tokio::time::Instant::from_std(watch.deadline(limits));
                tokio::select! {
                    _ = connection.as_mut() => break,
                    () = tokio::time::sleep_until(wake) => {
                        // Dropping the connection closes it; only done with no request in flight.
                        if watch.expired(limits) {
                            break;
                        }
                    }
                }
            }
            drop((slot, address_slot));
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!("shutdown deadline passed: dropping the requests still running");
        }
    }
    Ok(())
}

/// Open connections per client address, so that one address cannot take every slot of the
/// connection cap. IPv6 peers count by their /64, which one host usually holds whole. Trusted
/// proxies are not counted: every client behind them shares their address.
struct PerAddress {
    open: Arc<KeyedSlots<IpAddr>>,
    exempt: TrustedProxies,
}

/// A connection's place in its address's count; `None` for a trusted proxy, which is not counted.
type AddressSlot = Option<Slot<IpAddr>>;

impl PerAddress {
    fn new(max: usize, exempt: TrustedProxies) -> Self {
        Self { open: KeyedSlots::new(max), exempt }
    }

    /// A place for one more connection from `peer`, or `None` when it has the most it may have.
    fn admit(&self, peer: IpAddr) -> Option<AddressSlot> {
        if self.exempt.trusts(peer) {
            return Some(None);
        }
        self.open.try_acquire(&address_key(peer)).map(Some)
    }
}

/// What a connection's watchdog needs: requests in flight, when the current request head began
/// arriving, when the connection last became idle.
struct ConnectionWatch {
    in_flight: AtomicU32,
    /// 0 when no request head is being read.
    head_started: AtomicU64,
    idle_since: AtomicU64,
    /// No request yet: the connection has the header timeout, not the idle timeout.
    fresh: AtomicBool,
}

impl ConnectionWatch {
    fn new() -> Self {
        Self {
            in_flight: AtomicU32::new(0),
            head_started: AtomicU64::new(0),
            idle_since: AtomicU64::new(monotonic_ms()),
            fresh: AtomicBool::new(true),
        }
    }

    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_started.load(Ordering::Relaxed) == 0
        {
            self.head_started.store(monotonic_ms(), Ordering::Relaxed);
        }
    }

    fn request_started(&self) {
        self.fresh.store(false, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
    }

    fn request_finished(&self) {
        self.idle_since.store(monotonic_ms(), Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// When the connection is to be closed if nothing changes by then.
    fn deadline_ms(&self, limits: ConnectionLimits) -> Option<u64> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let head_started = self.head_started.load(Ordering::Relaxed);
        let (since, allowed) = if head_started != 0 {
            (head_started, limits.header_timeout)
        } else if self.fresh.load(Ordering::Relaxed) {
            (self.idle_since.load(Ordering::Relaxed), limits.header_timeout)
        } else {
            (self.idle_since.load(Ordering::Relaxed), limits.idle_timeout)
        };
        Some(since + allowed.as_millis() as u64)
    }

    fn deadline(&self, limits: ConnectionLimits) -> Instant {
        let now_ms = monotonic_ms();
        let wait = match self.deadline_ms(limits) {
            Some(deadline) => Duration::from_millis(deadline.saturating_sub(now_ms)),
            // Busy: look again after the shorter timeout.
            None => limits.header_timeout.min(limits.idle_timeout),
        };
        Instant::now() + wait.max(Duration::from_millis(1))
    }

    fn expired(&self, limits: ConnectionLimits) -> bool {
        self.deadline_ms(limits).is_some_and(|deadline| monotonic_ms() >= deadline)
    }
}

/// Marks the request finished when dropped, also when the request's future is dropped unfinished.
struct RequestFinished(Arc<ConnectionWatch>);

impl Drop for RequestFinished {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// A TCP stream that tells its watch when bytes arrive.
struct WatchedStream {
    stream: TcpStream,
    watch: Arc<ConnectionWatch>,
}

impl AsyncRead for WatchedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.watch.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for WatchedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_peers_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        use crate::http::edge::address_key;
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(address_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(address_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(address_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn an_address_gets_at_most_its_share_and_gives_it_back() {
        let per_address = PerAddress::new(2, TrustedProxies::default());
        let first = per_address.admit(ip("192.0.2.1")).unwrap();
        let _second = per_address.admit(ip("::ffff:192.0.2.1")).unwrap();
        assert!(
            per_address.admit(ip("192.0.2.1")).is_none(),
            "the mapped form is the same address"
        );
        assert!(per_address.admit(ip("192.0.2.2")).is_some(), "others are unaffected");
        drop(first);
        assert!(per_address.admit(ip("192.0.2.1")).is_some());
        drop(_second);
        assert_eq!(per_address.open.tracked(), 0, "addresses without connections leave no entry");
    }

    #[test]
    fn trusted_proxies_are_not_counted() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let per_address = PerAddress::new(1, proxies);
        let held: Vec<_> = (0..5).map(|_| per_address.admit(ip("10.1.1.1")).unwrap()).collect();
        assert_eq!(per_address.open.tracked(), 0);
        drop(held);
    }
}
