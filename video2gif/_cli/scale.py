"""``batch`` and ``serve``: many videos, and the web page; both take every option of ``make``."""

from __future__ import annotations

import sys

import click

from ..errors import UsageError
from ..options import ByteSize, GifOptions, click_options, from_cli
from ..serve import config as serve_config  # the web app's limits (no extra needed)
from .common import progress_enabled, warn_unused


def _engines() -> tuple[str, ...]:
    from ..batch.run import ENGINES

    return ENGINES


@click.command()
@click.argument("source", type=click.Path(path_type=str))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the results: OUTDIR/<path below SOURCE, no extension>/ per video "
                   "(videos that share it: OUTDIR/<path>-<extension>/), and the manifest.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Videos made at once [default: the CPU count; with --engine ray: the "
                   "cluster's CPUs].")
@click.option("--engine", type=click.Choice(_engines()), default=_engines()[0],
              show_default=True, help="local: worker processes here; ray: a Ray cluster (pip "
                                      "install 'video2gif[ray]').")
@click.option("--address", default=None,
              help="With --engine ray: the cluster to join, e.g. auto or ray://HEAD:10001 "
                   "[default: $RAY_ADDRESS, else a Ray started for this batch].")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Manifest of finished videos (JSON lines) [default: OUTDIR/manifest.jsonl].")
@click_options()
@click.option("-q", "--quiet", is_flag=True, help="Only failures and errors.")
def batch(source, outdir, workers, engine, address, manifest, quiet, **fields):
    """Make the GIFs of every video in SOURCE: a folder (searched recursively) or a text file
    of paths, one per line.

    Resumable: each finished video is appended to the manifest, and running the same command
    again skips what is done with the same settings and retries what failed. One bad video does
    not stop the others; the exit code is 1 if any failed.
    """
    from ..batch import find_inputs, run_batch

    settings = from_cli(fields)
    warn_unused(settings)
    inputs = find_inputs(source)
    show_bar = progress_enabled(quiet)
    state: dict = {"bar": None}

    def plan(to_do: int, skipped: int) -> None:
        if skipped and not quiet:
            click.echo(f"video2gif: {skipped} of {len(inputs)} videos already done, skipped",
                       err=True)
        if show_bar and to_do:
            from tqdm import tqdm

            state["bar"] = tqdm(total=to_do, desc="batch", unit="video", file=sys.stderr,
                                dynamic_ncols=True)

    def record(r: dict, done: int, failed: int, remaining: int) -> None:
        bar = state["bar"]
        ok = r["status"] == "done"
        line = (f"{r['input']}: {len(r['outputs'])} files in {r['folder']} ({r['seconds']:.1f} s)"
                if ok else f"Skipping {r['input']} due to {r['error']}")
        if bar is not None:
            bar.set_postfix_str(f"done {done}, failed {failed}")
            bar.update(1)
            if not ok:
                bar.write(line, file=sys.stderr)
        elif not ok or not quiet:
            click.echo(f"[{done + failed}/{done + failed + remaining}] {line}", err=True)

    try:
        summary = run_batch(inputs, outdir, settings, workers=workers, engine=engine,
                            address=address, manifest=manifest, on_plan=plan, on_record=record)
    finally:
        if state["bar"] is not None:
            state["bar"].close()
    if not quiet:
        click.echo(f"video2gif: batch: {summary.done} done, {summary.failed} failed, "
                   f"{summary.skipped} skipped in {summary.seconds:.1f} s; manifest "
                   f"{summary.manifest}", err=True)
    return 1 if summary.failed else 0


@click.command()
@click.option("--host", default=serve_config.HOST, show_default=True,
              help="Address to listen on; anything but loopback opens the page to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=serve_config.PORT,
              show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=serve_config.WORKERS,
              show_default=True, help="Videos made at once (worker processes).")
@click.option("--queue", type=click.IntRange(min=0), default=serve_config.QUEUE,
              show_default=True, help="Jobs waiting beyond the running ones; further uploads get "
                                      "a 'busy' answer.")
@click.option("--max-upload", type=ByteSize(), default=serve_config.MAX_UPLOAD_BYTES,
              show_default=True, help="Largest upload (bytes, or 500M, 2G, 1GiB).")
@click.option("--keep", type=click.FloatRange(min=1), default=serve_config.KEEP_SECONDS,
              show_default=True,
              help="Seconds a job's results stay downloadable; then its files are deleted.")
@click.option("--upload-idle", type=click.FloatRange(min=0, min_open=True),
              default=serve_config.UPLOAD_IDLE_SECONDS, show_default=True,
              help="Seconds an upload may send nothing before it is dropped.")
@click.option("--upload-min-rate", type=ByteSize(min=0), default=serve_config.UPLOAD_MIN_RATE,
              show_default=True, help="Bytes per second an upload must average once it is "
                                      "older than --upload-idle (0: no minimum).")
@click.option("--upload-deadline", type=click.FloatRange(min=0, min_open=True),
              default=serve_config.UPLOAD_DEADLINE_SECONDS, show_default=True,
              help="Seconds any upload may take in all.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests naming this host (repeatable; '*': any) [default: "
                   "the loopback names and --host; any host when --host is 0.0.0.0 or ::].")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN",
              help="Also take jobs from pages of this origin, e.g. https://app.example "
                   "(repeatable; '*': any) [default: only the server's own page].")
@click_options()
def serve(host, port, workers, queue, max_upload, keep, upload_idle, upload_min_rate,
          upload_deadline, allow_hosts, allow_origins, **fields):
    """Serve a web page on which to drop a video and get its best GIFs."""
    # validate() checks the settings (and loads a model file) once; create_app does not again.
    config = serve_config.ServeConfig(
        settings=GifOptions(**fields), workers=workers, queue=queue,
        max_upload_bytes=max_upload, keep_seconds=keep, upload_idle_seconds=upload_idle,
        upload_min_rate=upload_min_rate, upload_deadline_seconds=upload_deadline,
        allow_hosts=tuple(allow_hosts), allow_origins=tuple(allow_origins)).validate()
    try:
        from ..serve import is_loopback, run_server
    except ImportError as e:
        raise UsageError("serve", f"the web app needs its extra: pip install 'video2gif[serve]' "
                                  f"({e})") from None
    if not is_loopback(host):
        click.echo(f"video2gif: warning: listening on {host}: anyone who can reach this machine "
                   "can upload videos", err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"video2gif: serving on http://{shown}:{port}/ (Ctrl-C stops)", err=True)
    run_server(config, host=host, port=port)
    return 0
