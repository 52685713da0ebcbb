//! `intsync emulator`: the emulated Ada and Truto APIs over HTTP.

use std::io::Write as _;
use std::sync::Arc;

use anyhow::Context as _;
use intsync_emulator::{Emulator, Faults, RateLimitPreset, Store, server};

use crate::cli::{EmulatorArgs, RateLimitArg};
use intsync_run::Verdict;

pub fn run(args: &EmulatorArgs) -> anyhow::Result<Verdict> {
    let store = match &args.state {
        Some(path) => Store::open(path)
            .with_context(|| format!("cannot open the state file `{}`", path.display()))?,
        None => Store::in_memory(),
    };
    let (token, generated) = match &args.token {
        Some(token) if !token.is_empty() => (token.clone(), false),
        _ => (intsync_emulator::ids::secret(), true),
    };
    let emulator = Emulator::new(store, token.clone());
    emulator.set_rate_limits(match args.rate_limit {
        RateLimitArg::Off => RateLimitPreset::Off,
        RateLimitArg::Documented => RateLimitPreset::Documented,
    });
    if args.latency_ms > 0 {
        emulator.set_faults(Faults {
            latency_ms: args.latency_ms,
            rules: Vec::new(),
        });
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let emulator = Arc::new(emulator);
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        // stdout: the base URL, for scripts; stderr: the talk.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{addr}")?;
        stdout.flush()?;
        drop(stdout);
        eprintln!("intsync emulator: Ada and Truto APIs on http://{addr} (Ctrl-C to stop)");
        if !addr.ip().is_loopback() {
            eprintln!("warning: {addr} is not a loopback address: anyone who can reach it and knows the token can use the emulator");
        }
        if generated {
            eprintln!("token (send `Authorization: Bearer <token>`): {token}");
        }
        match &args.state {
            Some(path) => eprintln!("state: {}", path.display()),
            None => eprintln!("state: in memory (use --state FILE to keep it)"),
        }
        server::serve(Arc::clone(&emulator), listener, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    emulator
        .checkpoint()
        .context("cannot write the state file on shutdown")?;
    eprintln!("intsync emulator: stopped");
    Ok(Verdict::Ok)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
