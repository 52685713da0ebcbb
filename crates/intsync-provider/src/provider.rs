//! A provider: one target's API (Ada, Truto, or both on `local`), with paging and retries.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use intsync_manifest::Kind;
use intsync_plan::{Ignored, Observed, ObservedIntegration, Unreadable};
use serde_json::{Map, Value};

use crate::retry::{RetryBudget, RetryPolicy};
use crate::stop::Stop;
use crate::transport::{BoxError, Reply, Transport, TransportError};
use crate::wire;

/// What went wrong talking to a target. Messages name the request and what to do; they never
/// contain the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The API refused the request (a 4xx other than 429).
    #[error("{method} {url} answered {status}: {message}{hint}")]
    Refused {
        method: Method,
        url: String,
        status: u16,
        message: String,
        hint: String,
    },
    /// The API answered with a redirect (a 3xx). intsync follows no redirect: requests, and the
    /// token, go only to the target's `base_url`; where the answer points is named, never
    /// asked. Never retried, and never sent where it points.
    ///
    /// For a write this is a definite failure, not an unknown outcome: a 3xx is not a success
    /// status, it says the request was not processed at this URL (ask there instead). So a
    /// `POST` answered 3xx certainly did not create, and a `PATCH` did not update: the item
    /// fails at once, with no search of live state for it.
    #[error(
        "{method} {url} answered {status}{}; intsync follows no redirect: if the API moved, update `base_url` of target `{target}` in intsync.toml",
        points_to(location.as_deref())
    )]
    Redirected {
        method: Method,
        url: String,
        status: u16,
        /// The `Location` header as sent (control characters removed, cut at
        /// [`MAX_LOCATION_CHARS`]); `None` when there was none.
        location: Option<String>,
        target: String,
    },
    /// Every attempt failed with something worth retrying.
    #[error(
        "{method} {url} failed {attempts} times; last: {last} (the API is down, rate limiting or unreachable: try again later, or allow more attempts with `retry` in intsync.toml)"
    )]
    Exhausted {
        method: Method,
        url: String,
        attempts: u32,
        last: String,
    },
    /// A write was sent but its outcome is unknown (no answer, or a 5xx); it was not re-sent.
    #[error(
        "{method} {url}: the outcome is unknown ({reason}); it was not re-sent, to never write twice"
    )]
    UnknownOutcome {
        method: Method,
        url: String,
        reason: String,
    },
    /// The answer is not what the API documents.
    #[error(
        "{method} {url} answered {status} with a body intsync cannot read: {reason} (is `base_url` the API itself, not a proxy or web page?)"
    )]
    BadResponse {
        method: Method,
        url: String,
        status: u16,
        reason: String,
    },
    /// Truto refused a PATCH because the integration's `version` is no longer the one the plan
    /// saw: someone (or an earlier attempt of ours) changed it since.
    #[error(
        "{method} {url}: the integration is at version {live_version}, not {expected} as when the plan was made: it changed since"
    )]
    VersionConflict {
        method: Method,
        url: String,
        expected: u64,
        live_version: u64,
        /// The integration as it is now.
        live: Box<ObservedIntegration>,
    },
    /// A stop was asked for (SIGINT, SIGTERM) before this write was sent, or between two of its
    /// attempts. `attempts` says how many were sent: none means it certainly did not happen.
    #[error("{method} {url}: stopped before it was sent{}", stopped_after(*attempts, last))]
    Stopped {
        method: Method,
        url: String,
        attempts: u32,
        last: String,
    },
}

/// The longest `Location` a message quotes (a server chooses it; it must not flood a terminal).
pub const MAX_LOCATION_CHARS: usize = 300;

fn points_to(location: Option<&str>) -> String {
    match location {
        Some(location) => format!(" and points to `{location}`"),
        None => " without a `Location`".to_owned(),
    }
}

/// A `Location` header fit to quote: no control characters (no terminal escapes), at most
/// [`MAX_LOCATION_CHARS`] characters.
fn shown_location(raw: &str) -> String {
    let raw = crate::secret::without_userinfo(raw);
    let mut chars = raw.chars().filter(|c| !c.is_control());
    let mut shown: String = chars.by_ref().take(MAX_LOCATION_CHARS).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// Why a list that names one id twice cannot be read: planned as is, the id would be both
/// matched and unmanaged, or matched twice.
fn listed_twice(id: &str, first_page: &str, page: &str) -> String {
    let place = if first_page == page {
        format!("twice on the page `{page}`")
    } else {
        format!("on the page `{first_page}` and again on the page `{page}`")
    };
    format!(
        "the integration id {} is listed {place}: the list changed while it was read, or the API pages it wrongly; run the command again, and if it happens again, report it to the vendor",
        wire::quoted(id)
    )
}

fn stopped_after(attempts: u32, last: &str) -> String {
    if attempts == 0 {
        String::new()
    } else {
        format!(" again, after {attempts} attempt(s); last: {last}")
    }
}

/// What a create's answer held. The answer is used as far as it can be: a client secret and an
/// `id` are kept even when the rest of the integration cannot be read.
#[derive(Debug, Clone)]
pub struct Created {
    /// The status the create was answered with (200 or 201).
    pub status: u16,
    /// The new integration's `id`, if the answer names one.
    pub id: Option<String>,
    /// Ada's secret, shown only in this answer; absent for Truto.
    pub client_secret: wire::ClientSecret,
    /// The integration as the answer describes it, or why it cannot be read (a field missing).
    pub observed: Result<ObservedIntegration, ProviderError>,
}

/// One target's API.
#[derive(Debug)]
pub struct Provider {
    target: String,
    transport: Transport,
    kinds: Vec<Kind>,
    page_size: usize,
    retry: RetryPolicy,
    /// Where a 401 should send the user (`check that ADA_API_TOKEN ...`).
    auth_hint: String,
    limiter: Option<Arc<crate::limiter::RateLimiter>>,
    /// Shared with every provider of the same API and token, like `limiter` (issue #24).
    budget: Arc<RetryBudget>,
    requests: AtomicU64,
    /// Truto: the team whose integrations this target manages, from the target (`team_id`) or
    /// learned once from `GET /environment`.
    team: tokio::sync::OnceCell<String>,
}

/// One kind's live integrations: those this target manages, those it lists but does not own,
/// and those it cannot read.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub integrations: Vec<ObservedIntegration>,
    /// Truto's own and other teams' shared integrations: never matched, exported or written.
    pub ignored: Vec<Ignored>,
    /// Integrations of a readable page whose own answer cannot be read (a field the API always
    /// returns missing, a `name` that is not a string, ...): each by what can be read of its
    /// id and name, its page, and why. The rest of the list is read as usual; a page that
    /// cannot be read (not JSON, not the documented envelope) still fails the listing.
    pub unreadable: Vec<Unreadable>,
}

/// Safety net against a server whose cursors never end.
const MAX_PAGES: usize = 1_000_000;

/// How many answers the fetcher may hold ahead of the reading ([`Provider::listing`]), at
/// most...
const FETCHED_AHEAD: usize = 1024;

/// ... and how many KiB of them: the fetcher waits when the answers not read yet hold this
/// much. Pages are read on the CPU pool, which the manifests, loading at the same time, keep
/// busy: a bound of a few pages stopped the fetching until the loading was over, and the
/// rest of the pages were then asked for one after another (issue #24).
const FETCHED_AHEAD_KIB: u32 = 64 * 1024;

/// A list page's answer as the fetcher hands it to the reading ([`Provider::listing`]): its
/// path, the answer (or why there is none), its reading, started, and its share of
/// [`FETCHED_AHEAD_KIB`], given back once it is read.
type Fetched = (
    String,
    Result<Reply, ProviderError>,
    Option<Reading>,
    tokio::sync::OwnedSemaphorePermit,
);

/// What reading a list page gives.
type PageRead = Result<(Listing, Option<String>), wire::PageError>;

/// A list page being read on the CPU pool ([`read_page_apart`]): awaiting it gives the read,
/// or the panic that stopped it.
struct Reading(tokio::sync::oneshot::Receiver<std::thread::Result<PageRead>>);

impl Future for Reading {
    type Output = std::thread::Result<PageRead>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|sent| {
            // The job sends before it ends, a panic included.
            sent.unwrap_or_else(|_| Err(Box::new("the page reader stopped")))
        })
    }
}

/// Starts reading the list page `reply` answered for `path` ([`wire::read_page`]), its items
/// split by `team`, on the process's CPU pool (rayon's, the one manifests load on): two cores
/// run two readers, not three or four threads taking turns (issue #24).
fn read_page_apart(
    kind: Kind,
    reply: &Reply,
    team: Option<&str>,
    path: &str,
    page_size: usize,
) -> Reading {
    let (body, team, path) = (reply.body.clone(), team.map(str::to_owned), path.to_owned());
    let (send, receive) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let read = std::panic::catch_unwind(move || -> PageRead {
            let read = wire::read_page(kind, &body, team.as_deref(), page_size)?;
            let mut listing = Listing::default();
            for item in read.items {
                match item {
                    wire::PageItem::Ours(observed) => listing.integrations.push(observed),
                    wire::PageItem::Others(id) => listing.ignored.push(Ignored { kind, id }),
                    wire::PageItem::Unreadable(unreadable) => {
                        listing.unreadable.push(Unreadable {
                            kind,
                            id: unreadable.id,
                            name: unreadable.name,
                            page: path.clone(),
                            reason: unreadable.reason,
                            set_aside: Vec::new(),
                        });
                    }
                }
            }
            Ok((listing, read.next))
        });
        // Nobody waits any more: the read is let go of.
        let _ = send.send(read);
    });
    Reading(receive)
}

impl Provider {
    pub fn new(
        target: impl Into<String>,
        transport: Transport,
        kinds: Vec<Kind>,
        page_size: usize,
        retry: RetryPolicy,
        auth_hint: impl Into<String>,
    ) -> Provider {
        Provider {
            target: target.into(),
            transport,
            kinds,
            page_size: page_size.max(1),
            retry,
            auth_hint: auth_hint.into(),
            limiter: None,
            budget: Arc::new(RetryBudget::new()),
            requests: AtomicU64::new(0),
            team: tokio::sync::OnceCell::new(),
        }
    }

    /// Truto: manage the integrations of this team (the target's `team_id`) instead of asking
    /// `GET /environment` which team the token belongs to.
    #[must_use]
    pub fn with_team_id(self, team_id: Option<String>) -> Provider {
        if let Some(team) = team_id {
            // A new cell cannot be full.
            let _ = self.team.set(team);
        }
        self
    }

    /// The Truto team this target manages: configured, or learned from `GET /environment` once
    /// (Truto's tokens are scoped to one environment, which names its team).
    pub async fn team(&self) -> Result<&str, ProviderError> {
        self.team
            .get_or_try_init(|| self.learn_team())
            .await
            .map(String::as_str)
    }

    async fn learn_team(&self) -> Result<String, ProviderError> {
        let path = wire::TRUTO_ENVIRONMENT;
        let teams = self
            .read(Kind::TrutoIntegration, path, None, wire::environment_teams)
            .await
            .map_err(|mut error| {
                if let ProviderError::Refused { hint, .. } = &mut error {
                    hint.push_str(&format!(
                        " (intsync asks it which team the token belongs to, to manage only that team's integrations; if the token cannot read it, set `team_id` in target `{}`)",
                        self.target
                    ));
                }
                error
            })?;
        match teams.as_slice() {
            [team] => Ok(team.clone()),
            [] => Err(self.bad(
                &Method::GET,
                path,
                200,
                format!(
                    "it lists no environment with a `team_id`, so the token's team is unknown; set `team_id` in target `{}`",
                    self.target
                ),
            )),
            many => Err(self.bad(
                &Method::GET,
                path,
                200,
                format!(
                    "it lists environments of {} teams ({}), so which one to manage is unclear; set `team_id` in target `{}`",
                    many.len(),
                    many.join(", "),
                    self.target
                ),
            )),
        }
    }

    /// Every request (retries and list pages included) waits its turn under `limiter`.
    #[must_use]
    pub fn with_rate_limiter(mut self, limiter: Arc<crate::limiter::RateLimiter>) -> Provider {
        self.limiter = Some(limiter);
        self
    }

    /// After a 429, every request waits as long as `budget` says, its own retry included: the
    /// budget of every target with the same API and token (issue #24).
    #[must_use]
    pub fn with_retry_budget(mut self, budget: Arc<RetryBudget>) -> Provider {
        self.budget = budget;
        self
    }

    /// The rate limiter this provider's requests wait under, if any (shared by the targets of
    /// one API and token).
    pub fn rate_limiter(&self) -> Option<&Arc<crate::limiter::RateLimiter>> {
        self.limiter.as_ref()
    }

    /// The retry budget this provider's requests share.
    pub fn retry_budget(&self) -> &Arc<RetryBudget> {
        &self.budget
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// For the `local` target, writes the state file and empties its journal (so a run leaves
    /// one readable file); nothing for remote targets.
    pub fn checkpoint(&self) -> Result<(), BoxError> {
        match &self.transport {
            Transport::InProcess { api } => api.checkpoint(),
            Transport::Http { .. } => Ok(()),
        }
    }

    /// How long to keep looking for a write whose outcome is unknown: the server may go on with
    /// a request its client gave up on. One and a half request timeouts: at least the timeout
    /// (design §8), and room for a server that commits a little after it. Zero for an in-process
    /// API, which answers or drops a request only once it is handled.
    pub fn outcome_grace(&self) -> Duration {
        match &self.transport {
            Transport::Http {
                request_timeout, ..
            } => request_timeout.saturating_add(*request_timeout / 2),
            Transport::InProcess { .. } => Duration::ZERO,
        }
    }

    /// Requests sent so far (retries included).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends one request with retries. `idempotent` requests are retried on 5xx and lost
    /// answers; others (POST) only when they certainly did not take effect (429, no connection).
    /// With `stop`, a stop asked for before an attempt is sent (its turn under the rate limit
    /// included) ends the request there: [`ProviderError::Stopped`]. A 3xx is
    /// [`ProviderError::Redirected`], whatever the method.
    async fn execute(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
        stop: Option<&Stop>,
    ) -> Result<Reply, ProviderError> {
        let url = self.transport.url(path);
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts.max(1) {
            let stopped = || ProviderError::Stopped {
                method: method.clone(),
                url: url.clone(),
                attempts: attempt - 1,
                last: last.clone(),
            };
            // Its turn: after any hold a 429 put on this API and token, under the rate limit.
            let turn = async {
                self.budget.wait().await;
                if let Some(limiter) = &self.limiter {
                    limiter.acquire().await;
                }
            };
            match stop {
                Some(stop) if stop.reason().is_some() => return Err(stopped()),
                Some(stop) => {
                    tokio::select! {
                        biased;
                        _ = stop.requested() => return Err(stopped()),
                        () = turn => {}
                    }
                }
                None => turn.await,
            }
            let started = Instant::now();
            let mut throttled = false;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.transport.send(method.clone(), path, body).await;
            let elapsed = started.elapsed().as_millis();
            let retry_after = match result {
                Ok(reply) => {
                    tracing::debug!(target: "intsync::http", method = %method, path, status = reply.status, latency_ms = elapsed as u64, attempt);
                    match reply.status {
                        // Not followed, not retried: the request goes nowhere but `base_url`.
                        300..=399 => {
                            return Err(ProviderError::Redirected {
                                method,
                                url,
                                status: reply.status,
                                location: reply.location.as_deref().map(shown_location),
                                target: self.target.clone(),
                            });
                        }
                        429 => {
                            last = "429 Too Many Requests".to_owned();
                            throttled = true;
                            reply.retry_after
                        }
                        500..=599 if idempotent => {
                            last = format!("{} {}", reply.status, wire::error_message(&reply.body));
                            reply.retry_after
                        }
                        500..=599 => {
                            return Err(ProviderError::UnknownOutcome {
                                method,
                                url,
                                reason: format!(
                                    "it answered {}: {}",
                                    reply.status,
                                    wire::error_message(&reply.body)
                                ),
                            });
                        }
                        _ => return Ok(reply),
                    }
                }
                Err(TransportError::TooLarge { status, limit, .. }) => {
                    // Not worth asking again; for a write, the status says whether it landed.
                    return Err(ProviderError::BadResponse {
                        method,
                        url,
                        status,
                        reason: format!("the answer is larger than {limit} bytes; reading stopped"),
                    });
                }
                Err(error) => {
                    tracing::debug!(target: "intsync::http", method = %method, path, error = %error, latency_ms = elapsed as u64, attempt);
                    if error.was_sent() && !idempotent {
                        return Err(ProviderError::UnknownOutcome {
                            method,
                            url,
                            reason: error.into_reason(),
                        });
                    }
                    last = error.to_string();
                    None
                }
            };
            if attempt < self.retry.attempts {
                let wait = self.retry.delay(attempt, retry_after);
                if throttled {
                    // The quota is the token's: every request on it waits, not this one only.
                    self.budget.hold_for(wait);
                }
                tracing::debug!(target: "intsync::http", method = %method, path, wait_ms = wait.as_millis() as u64, "retrying");
                match stop {
                    Some(stop) => tokio::select! {
                        _ = stop.requested() => {}
                        () = tokio::time::sleep(wait) => {}
                    },
                    None => tokio::time::sleep(wait).await,
                }
            }
        }
        Err(ProviderError::Exhausted {
            method,
            url,
            attempts: self.retry.attempts.max(1),
            last,
        })
    }

    fn refused(&self, kind: Kind, method: Method, path: &str, reply: &Reply) -> ProviderError {
        // Each vendor's own reasons (its profile): only Ada freezes integrations that left
        // `development`; Truto refuses changes to integrations another team (or Truto) owns.
        let hint = match reply.status {
            401 => format!(" — {}", self.auth_hint),
            403 if method == Method::PATCH => format!(" — {}", kind.profile().patch_refusal_hint),
            403 => " — the token lacks permission for this request".to_owned(),
            _ => String::new(),
        };
        ProviderError::Refused {
            method,
            url: self.transport.url(path),
            status: reply.status,
            message: wire::error_message(&reply.body),
            hint,
        }
    }

    /// The body as JSON, whatever the `Content-Type` says (some gateways mislabel JSON); when it
    /// is not JSON, the message names the content type, never the body (it may hold a secret).
    fn json(&self, method: &Method, path: &str, reply: &Reply) -> Result<Value, ProviderError> {
        serde_json::from_slice(&reply.body).map_err(|e| {
            let content_type = match &reply.content_type {
                Some(t) => format!("Content-Type `{t}`"),
                None => "no Content-Type".to_owned(),
            };
            ProviderError::BadResponse {
                method: method.clone(),
                url: self.transport.url(path),
                status: reply.status,
                reason: format!("not JSON ({content_type}, {} bytes: {e})", reply.body.len()),
            }
        })
    }

    fn bad(&self, method: &Method, path: &str, status: u16, reason: String) -> ProviderError {
        ProviderError::BadResponse {
            method: method.clone(),
            url: self.transport.url(path),
            status,
            reason,
        }
    }

    /// Every live integration of `kind` this target manages, following the pages to the end
    /// (list calls only). Truto's own and other teams' integrations are left out.
    pub async fn list(&self, kind: Kind) -> Result<Vec<ObservedIntegration>, ProviderError> {
        self.listing(kind).await.map(|l| l.integrations)
    }

    /// Every live integration of `kind`, those this target manages apart from those it does not
    /// own (Truto lists its own and other teams' shared ones too: design §5).
    ///
    /// Pages follow a cursor, so they are asked for one after another; but each next request
    /// leaves as soon as its cursor is found in the bytes of the answer before it
    /// ([`wire::next_page`]), by a fetcher running ahead of the reading (issue #24). Each
    /// answer is read apart, on the CPU pool ([`wire::read_page`]), while the next ones
    /// arrive; the read's own `next` is the one that counts: when the fetcher went elsewhere
    /// (a cursor it could not find, or a different one), its answers are dropped and the pages
    /// are asked for here, one by one, as the reading finds them.
    pub async fn listing(&self, kind: Kind) -> Result<Listing, ProviderError> {
        let team = match kind {
            Kind::TrutoIntegration => Some(self.team().await?),
            Kind::AdaPlatformIntegration => None,
        };
        let first = format!("{}?limit={}", wire::collection_path(kind), self.page_size);
        // Answers fetched ahead, in order: up to 64 MiB of them ([`FETCHED_AHEAD_KIB`]), so a
        // slow read does not let the fetcher fill memory.
        let (ahead, mut fetched) = tokio::sync::mpsc::channel(FETCHED_AHEAD);
        let budget = Arc::new(tokio::sync::Semaphore::new(FETCHED_AHEAD_KIB as usize));
        let fetching = self.fetch_ahead(kind, team, first.clone(), ahead, budget);
        let reading = async {
            let mut path = first;
            let mut seen_pages = HashSet::new();
            // The page each id was listed on: an id listed twice is an error, not two
            // integrations.
            let mut listed_on: HashMap<String, String> = HashMap::new();
            let mut listing = Listing::default();
            for _ in 0..MAX_PAGES {
                // The fetcher's answer when it is this page's; else this page is asked for here
                // (and the fetcher, gone elsewhere, is not listened to again).
                let (reply, reading, share) = match fetched.recv().await {
                    Some((fetched_path, reply, reading, share)) if fetched_path == path => {
                        (reply?, reading, Some(share))
                    }
                    _ => {
                        fetched.close();
                        let reply = self.execute(Method::GET, &path, None, true, None).await?;
                        (reply, None, None)
                    }
                };
                let (page, next) = self.page(kind, team, &path, reply, reading).await?;
                drop(share);
                let ids = page.integrations.iter().map(|i| i.id.as_str());
                let ids = ids
                    .chain(page.ignored.iter().map(|i| i.id.as_str()))
                    .chain(page.unreadable.iter().filter_map(|u| u.id.as_deref()));
                for id in ids {
                    if id.is_empty() {
                        continue;
                    }
                    if let Some(first) = listed_on.insert(id.to_owned(), path.clone()) {
                        return Err(self.bad(
                            &Method::GET,
                            &path,
                            200,
                            listed_twice(id, &first, &path),
                        ));
                    }
                }
                listing.integrations.extend(page.integrations);
                listing.ignored.extend(page.ignored);
                listing.unreadable.extend(page.unreadable);
                seen_pages.insert(path.clone());
                match next {
                    None => return Ok(listing),
                    Some(next) if seen_pages.contains(&next) => {
                        return Err(self.bad(
                            &Method::GET,
                            &path,
                            200,
                            format!("the next page `{next}` was already read (a pagination loop)"),
                        ));
                    }
                    Some(next) => path = next,
                }
            }
            Err(self.bad(
                &Method::GET,
                &path,
                200,
                format!("more than {MAX_PAGES} pages"),
            ))
        };
        // The reading decides; the fetcher is dropped with whatever it was doing once it has.
        tokio::pin!(fetching, reading);
        let mut fetcher_done = false;
        loop {
            tokio::select! {
                biased;
                result = &mut reading => return result,
                () = &mut fetching, if !fetcher_done => fetcher_done = true,
            }
        }
    }

    /// Asks for `first`, then for each next page as soon as its cursor is found in the answer
    /// before it, handing every answer (or why there is none) to `ahead`, until a page names no
    /// next one, names one already asked for, or the reader stops listening.
    async fn fetch_ahead(
        &self,
        kind: Kind,
        team: Option<&str>,
        first: String,
        ahead: tokio::sync::mpsc::Sender<Fetched>,
        budget: Arc<tokio::sync::Semaphore>,
    ) {
        let mut path = first;
        let mut asked = HashSet::new();
        while asked.insert(path.clone()) && asked.len() <= MAX_PAGES {
            let reply = self.execute(Method::GET, &path, None, true, None).await;
            // An answer larger than the whole budget waits for all of it.
            let kib = reply.as_ref().map_or(1, |reply| {
                u32::try_from(reply.body.len().div_ceil(1024))
                    .unwrap_or(u32::MAX)
                    .clamp(1, FETCHED_AHEAD_KIB)
            });
            let Ok(share) = Arc::clone(&budget).acquire_many_owned(kib).await else {
                return;
            };
            let (next, reading) = match &reply {
                Ok(reply) if reply.status == 200 => (
                    wire::next_page(kind, &reply.body, self.page_size),
                    // Read at once, on the CPU pool: pages are read side by side.
                    Some(read_page_apart(kind, reply, team, &path, self.page_size)),
                ),
                _ => (None, None),
            };
            if ahead.send((path, reply, reading, share)).await.is_err() {
                return;
            }
            match next {
                Some(next) => path = next,
                None => return,
            }
        }
    }

    /// One list page, split into the integrations of `team` (all of them without one), the
    /// others, and those of `team` that cannot be read, read on the CPU pool
    /// ([`read_page_apart`]; `reading`: that of `answer`, already started). A page with
    /// unreadable integrations is asked for again under the retry policy, like an unreadable
    /// page (a flaky proxy or a deploy in progress may answer so); when the last attempt still
    /// has some, they are kept as [`Listing::unreadable`] and the page is read.
    async fn page(
        &self,
        kind: Kind,
        team: Option<&str>,
        path: &str,
        answer: Reply,
        reading: Option<Reading>,
    ) -> Result<(Listing, Option<String>), ProviderError> {
        let reading = std::sync::Mutex::new(reading);
        let reading = &reading;
        self.read_until(
            kind,
            path,
            Some(answer),
            |reply: Reply| async move {
                let started = reading
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let read = started
                    .unwrap_or_else(|| read_page_apart(kind, &reply, team, path, self.page_size))
                    .await
                    .unwrap_or_else(|panicked| std::panic::resume_unwind(panicked));
                match read {
                    Ok(read) => Ok(read),
                    // Not JSON: said the way every answer that is not JSON is said.
                    Err(wire::PageError::NotJson) => Err(self
                        .json(&Method::GET, path, &reply)
                        .err()
                        .unwrap_or_else(|| {
                            self.bad(&Method::GET, path, 200, "not JSON".to_owned())
                        })),
                    Err(wire::PageError::Unreadable(reason)) => {
                        Err(self.bad(&Method::GET, path, 200, reason.0))
                    }
                }
            },
            |(listing, _)| listing.unreadable.is_empty(),
        )
        .await
    }

    /// `GET path`, its answer read by `read`. An answer that cannot be read (cut off, not JSON,
    /// not the documented shape) is asked for again under the retry policy: reading has no side
    /// effects, and such answers usually come from a flaky proxy.
    async fn read<T>(
        &self,
        kind: Kind,
        path: &str,
        answer: Option<Reply>,
        read: impl Fn(Value) -> Result<T, wire::Unreadable>,
    ) -> Result<T, ProviderError> {
        let read = |reply: Reply| {
            let read = &read;
            async move {
                self.json(&Method::GET, path, &reply).and_then(|body| {
                    read(body).map_err(|reason| self.bad(&Method::GET, path, 200, reason.0))
                })
            }
        };
        self.read_until(kind, path, answer, read, |_| true).await
    }

    /// [`Provider::read`], where an answer read but not `whole` is asked for again too, while
    /// attempts remain; the last one is taken as it is.
    async fn read_until<T, F>(
        &self,
        kind: Kind,
        path: &str,
        mut answer: Option<Reply>,
        read: impl Fn(Reply) -> F,
        whole: impl Fn(&T) -> bool,
    ) -> Result<T, ProviderError>
    where
        F: Future<Output = Result<T, ProviderError>>,
    {
        let mut attempt = 1;
        loop {
            // `answer`: the first attempt's, already received.
            let reply = match answer.take() {
                Some(reply) => reply,
                None => self.execute(Method::GET, path, None, true, None).await?,
            };
            if reply.status != 200 {
                return Err(self.refused(kind, Method::GET, path, &reply));
            }
            let result = read(reply).await;
            let again = attempt < self.retry.attempts;
            match result {
                Ok(value) if whole(&value) || !again => return Ok(value),
                Ok(_) => {
                    let wait = self.retry.delay(attempt, None);
                    tracing::debug!(target: "intsync::http", path, wait_ms = wait.as_millis() as u64, "an integration of the answer cannot be read; reading again");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) if again => {
                    let wait = self.retry.delay(attempt, None);
                    tracing::debug!(target: "intsync::http", path, %error, wait_ms = wait.as_millis() as u64, "unreadable answer; reading again");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Live state of every kind this target serves.
    pub async fn observe(&self) -> Result<Observed, ProviderError> {
        let mut observed = Observed {
            kinds: self.kinds.clone(),
            ..Observed::default()
        };
        for kind in &self.kinds {
            let listing = self.listing(*kind).await?;
            observed.integrations.extend(listing.integrations);
            observed.ignored.extend(listing.ignored);
            observed.unreadable.extend(listing.unreadable);
        }
        Ok(observed)
    }

    /// `POST` a new integration with the fields of `body` the vendor's create takes (the others,
    /// Truto's `sharing`, are the caller's to set by an update). Sent again only when an attempt
    /// certainly did not reach the server (no connection, 429); an unknown outcome is the
    /// caller's to resolve by listing. An answer is used as far as it can be read (see
    /// [`Created`]).
    pub async fn create(
        &self,
        kind: Kind,
        body: &Map<String, Value>,
        stop: &Stop,
    ) -> Result<Created, ProviderError> {
        let path = wire::collection_path(kind);
        let body = Value::Object(wire::create_body(kind, body));
        let reply = self
            .execute(Method::POST, path, Some(&body), false, Some(stop))
            .await?;
        if !matches!(reply.status, 200 | 201) {
            return Err(self.refused(kind, Method::POST, path, &reply));
        }
        let value = self.json(&Method::POST, path, &reply)?;
        let client_secret = wire::client_secret(&value);
        let id = value.as_object().and_then(wire::id);
        let observed = wire::observed(kind, value)
            .map_err(|reason| self.bad(&Method::POST, path, reply.status, reason.0));
        Ok(Created {
            status: reply.status,
            id,
            client_secret,
            observed,
        })
    }

    /// `PATCH` an integration with exactly `patch`, plus Truto's `expected_version` as the
    /// body's `version` (its optimistic concurrency). A Truto refusal because the version moved
    /// is told apart from others by reading the integration's live version, not the message:
    /// [`ProviderError::VersionConflict`].
    pub async fn update(
        &self,
        kind: Kind,
        id: &str,
        patch: &Map<String, Value>,
        expected_version: Option<u64>,
        stop: &Stop,
    ) -> Result<ObservedIntegration, ProviderError> {
        let path = wire::item_path(kind, id);
        let mut body = patch.clone();
        if let Some(version) = expected_version {
            body.insert("version".to_owned(), Value::from(version));
        }
        let body = Value::Object(body);
        let reply = self
            .execute(Method::PATCH, &path, Some(&body), true, Some(stop))
            .await?;
        if reply.status != 200 {
            let refused = self.refused(kind, Method::PATCH, &path, &reply);
            if let (400, Some(expected)) = (reply.status, expected_version) {
                return Err(self
                    .version_conflict(kind, id, expected)
                    .await
                    .unwrap_or(refused));
            }
            return Err(refused);
        }
        let value = self.json(&Method::PATCH, &path, &reply)?;
        wire::observed(kind, value).map_err(|reason| self.bad(&Method::PATCH, &path, 200, reason.0))
    }

    /// After a 400 to a versioned PATCH: the conflict, when the live version is not `expected`.
    async fn version_conflict(&self, kind: Kind, id: &str, expected: u64) -> Option<ProviderError> {
        let live = self
            .list(kind)
            .await
            .ok()?
            .into_iter()
            .find(|o| o.id == id)?;
        let live_version = live.version?;
        (live_version != expected).then(|| ProviderError::VersionConflict {
            method: Method::PATCH,
            url: self.transport.url(&wire::item_path(kind, id)),
            expected,
            live_version,
            live: Box::new(live),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::transport::Timeouts;

    /// An emulator on loopback taking `token`, and a transport to it.
    async fn emulator(token: &str) -> (intsync_emulator::server::RunningServer, Transport) {
        let server = intsync_emulator::server::RunningServer::start(
            intsync_emulator::Emulator::new(intsync_emulator::Store::in_memory(), token),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let transport =
            Transport::http(&server.base_url(), Secret::new(token), Timeouts::default()).unwrap();
        (server, transport)
    }

    /// An answer over the size limit is not read to the end, not retried, and reported.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_over_the_size_limit_are_refused() {
        let (_server, transport) = emulator("size-token").await;
        let provider = |transport: Transport| {
            Provider::new(
                "ada",
                transport,
                vec![Kind::AdaPlatformIntegration],
                100,
                RetryPolicy::default(),
                "",
            )
        };
        let full = provider(transport.clone());
        for i in 0..5 {
            let body = serde_json::json!({
                "name": format!("Big {i}"), "description": "d", "author": "a", "contact": "c@example.com",
                "identifier_field_path": "account.name",
                "uninstallation_url": "https://example.com/u", "oauth_callback_url": "https://example.com/o",
                "tags": ["knowledge"], "scopes": ["articles:read"],
                "configuration_fields": {"type": "object", "required": ["account"], "properties": {"account": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}
            });
            full.create(
                Kind::AdaPlatformIntegration,
                body.as_object().unwrap(),
                &Stop::new(),
            )
            .await
            .unwrap();
        }
        assert_eq!(
            full.list(Kind::AdaPlatformIntegration).await.unwrap().len(),
            5
        );
        let small = provider(transport.with_max_body(1024));
        let error = small.list(Kind::AdaPlatformIntegration).await.unwrap_err();
        assert!(
            error.to_string().contains("larger than 1024 bytes"),
            "{error}"
        );
        assert_eq!(small.request_count(), 1, "not retried");
    }

    /// Issue #24: list pages are read on the CPU pool, which loading manifests keeps busy; the
    /// fetcher goes on asking for every next page meanwhile (a bound of a few pages held it
    /// until the pool was free, and the rest were then asked for one by one), and the reading
    /// catches up once the pool is free, in order, nothing asked twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_page_is_asked_for_while_the_cpu_pool_is_busy() {
        let (_server, transport) = emulator("busy-token").await;
        let provider = |page_size| {
            Arc::new(Provider::new(
                "ada",
                transport.clone(),
                vec![Kind::AdaPlatformIntegration],
                page_size,
                RetryPolicy::default(),
                "",
            ))
        };
        let seeding = provider(100);
        for i in 0..30 {
            let body = serde_json::json!({
                "name": format!("Busy {i}"), "description": "d", "author": "a",
                "contact": "c@example.com", "identifier_field_path": "account.name",
                "uninstallation_url": "https://example.com/u",
                "oauth_callback_url": "https://example.com/o",
                "tags": ["knowledge"], "scopes": ["articles:read"],
                "configuration_fields": {"type": "object", "properties": {}}
            });
            seeding
                .create(
                    Kind::AdaPlatformIntegration,
                    body.as_object().unwrap(),
                    &Stop::new(),
                )
                .await
                .unwrap();
        }
        // Every thread of the pool held, as a loading holds them.
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads = rayon::current_num_threads();
        for _ in 0..threads {
            let (gate, held) = (Arc::clone(&gate), Arc::clone(&held));
            rayon::spawn(move || {
                held.fetch_add(1, Ordering::SeqCst);
                let (open, opened) = &*gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = opened.wait(open).unwrap();
                }
            });
        }
        while held.load(Ordering::SeqCst) < threads {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let reading = provider(2);
        let listing = tokio::spawn({
            let reading = Arc::clone(&reading);
            async move { reading.listing(Kind::AdaPlatformIntegration).await }
        });
        // 30 integrations, 2 a page: at least 15 pages, all asked for with no page read.
        let mut asked = 0;
        let mut since = Instant::now();
        while since.elapsed() < Duration::from_millis(400) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if reading.request_count() != asked {
                asked = reading.request_count();
                since = Instant::now();
            }
        }
        assert!(
            asked >= 15,
            "the fetcher stopped after {asked} pages while the pool was busy"
        );
        assert!(!listing.is_finished(), "no page could be read yet");
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        let listing = listing.await.unwrap().unwrap();
        assert_eq!(listing.integrations.len(), 30);
        assert_eq!(reading.request_count(), asked, "every page asked for once");
    }

    /// Every way a provider or its errors can be formatted leaves the token out.
    #[test]
    fn debug_and_display_never_show_the_token() {
        let token = "debug-test-token-7a8b9c";
        let transport = Transport::http(
            "https://coolshop.ada.support",
            Secret::new(token),
            Timeouts::default(),
        )
        .unwrap();
        let provider = Provider::new(
            "ada",
            transport.clone(),
            vec![Kind::AdaPlatformIntegration],
            100,
            RetryPolicy::default(),
            "check ADA_API_TOKEN",
        );
        let error = provider.refused(
            Kind::AdaPlatformIntegration,
            Method::GET,
            "/api/v2/platform-integrations/",
            &Reply {
                status: 401,
                retry_after: None,
                content_type: None,
                location: None,
                body: bytes::Bytes::from_static(b"{}"),
            },
        );
        let texts = [
            format!("{provider:?}"),
            format!("{provider:#?}"),
            format!("{transport:?}"),
            format!("{error}"),
            format!("{error:?}"),
        ];
        for text in texts {
            assert!(!text.contains(token), "{text}");
        }
    }

    /// A 403 to a PATCH gives each vendor's own reasons: Ada's `development` status is never
    /// offered as the cause of a Truto refusal.
    #[test]
    fn refusal_hints_are_the_vendors_own() {
        let provider = Provider::new(
            "t",
            Transport::http(
                "https://x.example",
                Secret::new("hint-token-1"),
                Timeouts::default(),
            )
            .unwrap(),
            Kind::ALL.to_vec(),
            100,
            RetryPolicy::default(),
            "check the token",
        );
        let forbidden = Reply {
            status: 403,
            retry_after: None,
            content_type: None,
            location: None,
            body: bytes::Bytes::from_static(b"{}"),
        };
        let ada = provider
            .refused(
                Kind::AdaPlatformIntegration,
                Method::PATCH,
                "/api/v2/platform-integrations/a",
                &forbidden,
            )
            .to_string();
        assert!(ada.contains("`development`"), "{ada}");
        let truto = provider
            .refused(
                Kind::TrutoIntegration,
                Method::PATCH,
                "/integration/t",
                &forbidden,
            )
            .to_string();
        assert!(!truto.contains("development"), "{truto}");
        assert!(truto.contains("another team"), "{truto}");
        let post = provider
            .refused(
                Kind::TrutoIntegration,
                Method::POST,
                "/integration",
                &forbidden,
            )
            .to_string();
        assert!(post.contains("the token lacks permission"), "{post}");
    }

    /// A tiny HTTP/1.1 server on loopback: reads each request (head and body), writes
    /// `answer(path and query)` as the whole raw answer, closes. Counts the requests it read.
    async fn raw_server(
        answer: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> (u16, Arc<AtomicU64>) {
        use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicU64::new(0));
        let answer = Arc::new(answer);
        let seen = Arc::clone(&count);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, answer) = (Arc::clone(&seen), Arc::clone(&answer));
                tokio::spawn(async move {
                    let mut stream = tokio::io::BufReader::new(stream);
                    let mut line = String::new();
                    stream.read_line(&mut line).await?;
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        stream.read_line(&mut header).await?;
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await?;
                    seen.fetch_add(1, Ordering::SeqCst);
                    stream.get_mut().write_all(answer(&path).as_bytes()).await?;
                    stream.get_mut().shutdown().await
                });
            }
        });
        (port, count)
    }

    /// A Truto target learns its team from `GET /environment` (here under `results`, as one of
    /// Truto's examples spells it) once, and lists only that team's integrations; the others are
    /// counted apart, even when their answer has no `config` or no `version`. A configured
    /// `team_id` asks nothing; an environment that cannot be read says to set `team_id`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truto_lists_only_the_team_of_the_token() {
        let ok = |body: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let (port, asked) = raw_server(move |path| {
            if path.starts_with("/environment") {
                ok(r#"{"results":[{"id":"env-1","name":"prod","team_id":"ours"}],"next_cursor":null,"limit":100}"#)
            } else {
                ok(r#"{"result":[
                    {"id":"1","name":"hubspot","team_id":"truto-team","sharing":"allow"},
                    {"id":"2","name":"mine","team_id":"ours","version":3,"config":{}},
                    {"id":"3","name":"acme_crm","team_id":"acme","version":1},
                    {"id":"4","name":"no_team","version":1}
                ],"next_cursor":null,"limit":100}"#)
            }
        })
        .await;
        let truto = |port: u16, team_id: Option<&str>| {
            Provider::new(
                "truto",
                Transport::http(
                    &format!("http://127.0.0.1:{port}"),
                    Secret::new("team-token"),
                    Timeouts::default(),
                )
                .unwrap(),
                vec![Kind::TrutoIntegration],
                100,
                RetryPolicy::default(),
                "",
            )
            .with_team_id(team_id.map(str::to_owned))
        };
        let provider = truto(port, None);
        let observed = provider.observe().await.unwrap();
        let ids = |o: &Observed| {
            o.integrations
                .iter()
                .map(|i| i.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&observed), ["2"]);
        let ignored: Vec<&str> = observed.ignored.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ignored, ["1", "3", "4"]);
        assert_eq!(
            provider.list(Kind::TrutoIntegration).await.unwrap().len(),
            1
        );
        assert_eq!(
            asked.load(Ordering::SeqCst),
            3,
            "the environment is asked once"
        );

        let configured = truto(port, Some("acme"));
        assert_eq!(ids(&configured.observe().await.unwrap()), ["3"]);
        assert_eq!(asked.load(Ordering::SeqCst), 4, "no environment asked");

        let (refusing, _) = raw_server(|_| {
            let body = r#"{"statusCode":403,"error":"Forbidden","message":"no access"}"#;
            format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        })
        .await;
        let error = truto(refusing, None)
            .observe()
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("GET http://127.0.0.1"), "{error}");
        assert!(error.contains("/environment answered 403"), "{error}");
        assert!(error.contains("set `team_id` in target `truto`"), "{error}");
        assert!(!error.contains("development"), "{error}");
    }

    /// One integration of a page that cannot be read no longer fails the list (issue #22): the
    /// others are listed, and it is kept apart by what can be read of its id and name, with its
    /// page and why, never a quote of the answer. The page is asked for again first (like an
    /// unreadable page); an id listed as unreadable and again as readable is still an error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_integration_is_kept_apart_and_the_others_listed() {
        let ok = |body: String| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let ada_item = |id: &str, name: &str| {
            let mut item = serde_json::json!({"id": id, "name": name, "status": "development", "client_secret": "never-shown-7f3a"});
            for field in Kind::AdaPlatformIntegration.fields() {
                if field.required_on_create && field.name != "name" {
                    item[field.name] = serde_json::json!(field.name);
                }
            }
            item
        };
        let mut no_status = ada_item("a2", "Beta");
        no_status.as_object_mut().unwrap().remove("status");
        let mut numeric_name = ada_item("a3", "x");
        numeric_name["name"] = serde_json::json!(42);
        let mut null_name = ada_item("a4", "x");
        null_name["name"] = Value::Null;
        let mut no_scopes = ada_item("a5", "Epsilon");
        no_scopes.as_object_mut().unwrap().remove("scopes");
        let ada_body = serde_json::json!({
            "data": [ada_item("a1", "Alpha"), no_status, numeric_name, null_name, no_scopes, ["not", "an", "object"]],
            "meta": {"next_page_url": null}
        })
        .to_string();
        let truto_body = serde_json::json!({
            "result": [
                {"id": "t1", "name": "crm", "team_id": "ours", "version": 2},
                {"id": "t2", "name": "tickets", "team_id": "ours"},
                {"id": 7, "name": "numbered", "team_id": "ours", "version": "3"},
                {"id": "t4", "name": "theirs", "team_id": "acme"}
            ],
            "next_cursor": null
        })
        .to_string();
        let (port, asked) = raw_server(move |path| {
            if path.starts_with("/integration") {
                ok(truto_body.clone())
            } else {
                ok(ada_body.clone())
            }
        })
        .await;
        let provider = Provider::new(
            "both",
            Transport::http(
                &format!("http://127.0.0.1:{port}"),
                Secret::new("unreadable-token"),
                Timeouts::default(),
            )
            .unwrap(),
            Kind::ALL.to_vec(),
            100,
            RetryPolicy {
                attempts: 3,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
                ..RetryPolicy::default()
            },
            "",
        )
        .with_team_id(Some("ours".to_owned()));
        let observed = provider.observe().await.unwrap();
        let ids: Vec<&str> = observed
            .integrations
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(ids, ["a1", "t1"]);
        let unreadable: Vec<_> = observed
            .unreadable
            .iter()
            .map(|u| {
                (
                    u.kind,
                    u.id.as_deref(),
                    u.name.as_deref(),
                    u.page.as_str(),
                    u.reason.as_str(),
                )
            })
            .collect();
        let ada = Kind::AdaPlatformIntegration;
        let truto = Kind::TrutoIntegration;
        let ada_page = "/api/v2/platform-integrations/?limit=100";
        let truto_page = "/integration?limit=100";
        assert_eq!(
            unreadable,
            [
                (ada, Some("a2"), Some("Beta"), ada_page, "has no `status`"),
                (
                    ada,
                    Some("a3"),
                    None,
                    ada_page,
                    "has a `name` that is a number, not a string"
                ),
                (
                    ada,
                    Some("a4"),
                    None,
                    ada_page,
                    "has a `name` that is null, not a string"
                ),
                (
                    ada,
                    Some("a5"),
                    Some("Epsilon"),
                    ada_page,
                    "has no `scopes`, which the API always returns"
                ),
                (ada, None, None, ada_page, "is an array, not an object"),
                (
                    truto,
                    Some("t2"),
                    Some("tickets"),
                    truto_page,
                    "has no numeric `version`"
                ),
                (
                    truto,
                    Some("7"),
                    Some("numbered"),
                    truto_page,
                    "has no numeric `version`"
                ),
            ]
        );
        assert_eq!(observed.ignored.len(), 1, "another team's stays ignored");
        assert!(
            !format!("{observed:?}").contains("never-shown-7f3a"),
            "no reason quotes the answer"
        );
        assert_eq!(
            asked.load(Ordering::SeqCst),
            6,
            "each page asked for again, up to the 3 attempts, before its items are kept apart"
        );

        // The id of an unreadable integration counts in the "listed twice" check.
        let twice = serde_json::json!({
            "data": [ada_item("d1", "Alpha"), {"id": "d1", "name": "Alpha"}],
            "meta": {"next_page_url": null}
        })
        .to_string();
        let (port, _) = raw_server(move |_| ok(twice.clone())).await;
        let provider = Provider::new(
            "ada",
            Transport::http(
                &format!("http://127.0.0.1:{port}"),
                Secret::new("unreadable-token"),
                Timeouts::default(),
            )
            .unwrap(),
            vec![ada],
            100,
            RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            },
            "",
        );
        let error = provider.listing(ada).await.unwrap_err().to_string();
        assert!(
            error.contains(r#"the integration id "d1" is listed twice"#),
            "{error}"
        );
    }

    /// A 3xx is an error naming the status and the `Location`; it is neither followed (the
    /// place it points to is never asked) nor retried, for a read as for a create.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redirects_are_not_followed_nor_retried() {
        let (elsewhere, asked_elsewhere) = raw_server(|_| {
            let body = r#"{"data":[],"meta":{"next_page_url":null}}"#;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        })
        .await;
        let (api, asked) = raw_server(move |path| {
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{elsewhere}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        })
        .await;
        let provider = Provider::new(
            "ada",
            Transport::http(
                &format!("http://127.0.0.1:{api}"),
                Secret::new("redirect-token"),
                Timeouts::default(),
            )
            .unwrap(),
            vec![Kind::AdaPlatformIntegration],
            100,
            RetryPolicy::default(),
            "",
        );
        let list = "/api/v2/platform-integrations/?limit=100";
        let error = provider
            .list(Kind::AdaPlatformIntegration)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &error,
                ProviderError::Redirected { status: 307, location: Some(location), .. }
                    if *location == format!("http://localhost:{elsewhere}{list}")
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "GET http://127.0.0.1:{api}{list} answered 307 and points to `http://localhost:{elsewhere}{list}`; intsync follows no redirect: if the API moved, update `base_url` of target `ada` in intsync.toml"
            )
        );
        let error = provider
            .create(Kind::AdaPlatformIntegration, &Map::new(), &Stop::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ProviderError::Redirected { status: 307, method, .. } if *method == Method::POST),
            "{error:?}"
        );
        assert_eq!(provider.request_count(), 2, "neither was retried");
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        assert_eq!(
            asked_elsewhere.load(Ordering::SeqCst),
            0,
            "nothing followed"
        );
    }

    #[test]
    fn a_location_is_quoted_without_control_characters_and_cut() {
        assert_eq!(shown_location("/v3\u{1b}[31m/x\r\n"), "/v3[31m/x");
        let long = "a".repeat(MAX_LOCATION_CHARS + 5);
        let shown = shown_location(&long);
        assert_eq!(shown.chars().count(), MAX_LOCATION_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(
            shown_location(&long[..MAX_LOCATION_CHARS]),
            long[..MAX_LOCATION_CHARS]
        );
        let error = ProviderError::Redirected {
            method: Method::GET,
            url: "https://x.example/a".to_owned(),
            status: 302,
            location: None,
            target: "ada".to_owned(),
        };
        assert!(
            error
                .to_string()
                .starts_with("GET https://x.example/a answered 302 without a `Location`; intsync follows no redirect"),
            "{error}"
        );
    }
}
