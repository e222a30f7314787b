use std::process::ExitCode;

use clap::Parser;
use tessera::config::{Cli, ClientCommand, Command, KeysCommand, Settings, UserCommand};
use tessera::startup::Application;
use tessera::{cli, telemetry};

/// mimalloc rather than glibc's malloc for Rust's allocations (SQLite keeps
/// glibc's): a refresh allocates and frees a few hundred small blocks on the
/// tokio workers, where glibc spent about a tenth of their instructions
/// (BENCHMARKS.md, issue 12, measures the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_max_object_size` in mimalloc 3's `mi_option_t` (the
/// Rust bindings name only mimalloc 2's options). mimalloc keeps retired
/// options' slots, so the number does not move between its releases.
const MI_OPTION_ARENA_MAX_OBJECT_SIZE: libmimalloc_sys::mi_option_t = 45;

/// Makes the allocator hand blocks over 1 MiB (argon2's 19 MiB working
/// memory) straight back to the system when they are freed, as
/// `mallopt(M_MMAP_THRESHOLD)` did while glibc's malloc served Rust. In
/// mimalloc's arenas a hashing thread's freed memory stayed resident until
/// that thread (idle after a login burst) allocated again: a peak RSS of
/// 80 MiB against 30 MiB in the bench's refresh scenario. Call once, first
/// thing in `main`.
fn return_large_blocks_to_the_system() {
    // SAFETY: sets one tuning option (in KiB); called before other threads start.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_MAX_OBJECT_SIZE, 1024) }
}

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One clear line, not clap's multi-line usage dump.
            let rendered = e.render().to_string();
            eprintln!("{}", rendered.lines().next().unwrap_or("invalid arguments"));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let log_format = match &cli.command {
        None => cli.serve.ops.log_format,
        Some(Command::Serve(args)) => args.ops.log_format,
        Some(_) => tessera::config::LogFormat::Text,
    };
    telemetry::init(log_format);
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Migrate(db)) => cli::migrate(db).await,
        Some(Command::User(UserCommand::Create(args))) => cli::user_create(args).await,
        Some(Command::Client(ClientCommand::Create(args))) => cli::client_create(args).await,
        Some(Command::Keys(KeysCommand::Rotate(db))) => cli::keys_rotate(db).await,
        Some(Command::Purge(args)) => cli::purge(args).await,
        Some(Command::Healthcheck(args)) => tessera::healthcheck::probe(&args).await,
        Some(Command::Schema(_)) => {
            print!("{}", tessera::graphql::sdl());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: tessera::config::ServeArgs) -> anyhow::Result<()> {
    let check_only = args.ops.check_config;
    let settings = Settings::try_from(args).map_err(anyhow::Error::msg)?;
    if check_only {
        println!("{}", serde_json::json!({ "config": "ok" }));
        return Ok(());
    }
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option's number is hard-coded: if a mimalloc update moved it, the
    /// number would name another option, whose default is not arena_max_object_size's
    /// 2 GiB (in KiB), and the setting would silently tune the wrong thing.
    #[test]
    fn the_option_number_names_the_arena_object_size_limit() {
        // SAFETY: reads one tuning option.
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_MAX_OBJECT_SIZE) };
        assert_eq!(default, 2 * 1024 * 1024, "2 GiB in KiB");
        return_large_blocks_to_the_system();
        // SAFETY: as above.
        let set = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_MAX_OBJECT_SIZE) };
        assert_eq!(set, 1024);
    }
}
