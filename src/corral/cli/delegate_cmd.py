"""`corral delegate`: a worker that runs pipeline steps for a Temporal-backed Corral."""

from __future__ import annotations

import os
import signal
import socket
import sys

import click


@click.command("delegate")
@click.option(
    "--server",
    "server",
    help="The Corral server to register with and send the steps' log lines to, as they are "
    "written (e.g. https://corral.example.com).",
)
@click.option(
    "--token", envvar="CORRAL_DELEGATE_TOKEN", help="The delegate's token [env CORRAL_DELEGATE_TOKEN]."
)
@click.option(
    "--tags",
    help="Comma-separated tags; steps whose delegateSelectors are all among them run here. "
    "`default` also takes steps that select no delegate. Default: the tags the server has for "
    "this delegate's token, else `default`.",
)
@click.option(
    "--temporal",
    "target",
    default="127.0.0.1:7233",
    show_default=True,
    envvar="CORRAL_TEMPORAL",
    help="Temporal frontend HOST:PORT [env CORRAL_TEMPORAL].",
)
@click.option("--namespace", default="default", show_default=True, help="Temporal namespace.")
@click.option("--name", help="This delegate's name (default: host:pid).")
@click.option(
    "--store",
    "store_url",
    help="Also run the pipeline workflows and write their state to this Corral store "
    "(sqlite:///... or postgresql+psycopg://...); the server does this when it runs on Temporal.",
)
@click.option("--heartbeat-every", default=1.0, show_default=True, type=float, hidden=True)
def delegate(
    server: str | None,
    token: str | None,
    tags: str | None,
    target: str,
    namespace: str,
    name: str | None,
    store_url: str | None,
    heartbeat_every: float,
) -> None:
    """Run steps of distributed pipelines on this machine, polling Temporal for work."""
    import asyncio  # here, not at the top: `corral delegate --help` stays quick

    from corral.delegate.live_logs import server_sender, store_sender
    from corral.delegate.queues import normalize_tags
    from corral.delegate.registration import Registration
    from corral.delegate.worker import connect, control_worker, delegate_workers, run_workers

    registration = Registration(server, token) if server else None
    known = registration.beat() if registration is not None else None
    if tags is None:
        tags = ",".join(known["tags"]) if known and known.get("tags") else "default"
    try:
        tag_list = list(normalize_tags(tags.split(",")))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--tags") from None
    if not tag_list:
        raise click.BadParameter("give at least one tag (e.g. default)", param_hint="--tags")
    if known and set(normalize_tags(known.get("tags") or [])) != set(tag_list):
        click.echo(
            f"corral delegate: the server lists tags {', '.join(known.get('tags') or []) or '(none)'} "
            f"for this delegate; polling for {', '.join(tag_list)}",
            err=True,
        )
    name = name or (known or {}).get("name") or f"{socket.gethostname()}:{os.getpid()}"

    async def main() -> None:
        try:
            client = await connect(target, namespace)
        except Exception as error:
            raise click.ClickException(
                f"cannot reach Temporal at {target} (namespace {namespace}): {error}"
            ) from None
        store = None
        send_logs = None
        if store_url:
            from corral.store import Store

            store = Store.open(store_url)
            send_logs = store_sender(store)
        elif registration is not None:  # steps' log lines go to the server as they are written
            send_logs = server_sender(registration.server, token)
        workers = delegate_workers(
            client, tag_list, name=name, heartbeat_every=heartbeat_every, send_logs=send_logs
        )
        if store is not None:
            workers.append(control_worker(client, store))
        queues = [w.task_queue for w in workers]
        if registration is not None:
            registration.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        click.echo(f"delegate {name} polling {', '.join(queues)} on {target}", err=True)
        try:
            await run_workers(workers, stop)
        finally:
            if registration is not None:
                registration.stop()
            if store is not None:
                store.close()

    code = 0
    try:
        asyncio.run(main())
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    sys.stdout.flush()
    sys.stderr.flush()
    # the Temporal client can crash at interpreter exit (sdk-python issue 300)
    os._exit(code)
