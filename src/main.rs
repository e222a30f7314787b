use std::process::ExitCode;

use clap::Parser;
use tessera::config::{Cli, ClientCommand, Command, KeysCommand, Settings, UserCommand};
use tessera::startup::Application;
use tessera::{cli, telemetry};

fn main() -> ExitCode {
    tessera::crypto::password::return_hash_memory_to_the_system();
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
