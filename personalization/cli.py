"""`issuance card-sim`: blank card stock and a virtual card attached to pcscd through vpcd."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import FrameType

import click

from issuance.cli.context import settings_of
from issuance.keystore import KeystoreError, open_keystore
from personalization.lds import profile
from personalization.protocol.kdf import GP_TEST_KEY, StaticKeys
from personalization.virtual_card import FaultPlan, VirtualCard
from personalization.virtual_card.state import KeySource
from personalization.vpcd import DEFAULT_HOST, DEFAULT_PORT, VirtualReaderSlot


def _master_key(ctx: click.Context, path: Path | None, label: str | None) -> KeySource:
    if path is not None and label is not None:
        raise click.BadParameter("give either --master-key-file or --master-key-label, not both")
    if label is not None:
        return _keystore_keys(ctx, label)
    if path is None:
        click.echo("warning: using the public GlobalPlatform test key (training stock only)",
                   err=True)
        return GP_TEST_KEY
    key = bytes.fromhex(path.read_text().strip())
    if len(key) not in (16, 24, 32):
        raise click.BadParameter("master key must be 16, 24 or 32 bytes of hex")
    return key


def _keystore_keys(ctx: click.Context, label: str) -> Callable[[bytes], StaticKeys]:
    """Each card's keys derived in the keystore: the master key never reaches this process."""
    try:
        store = open_keystore(settings_of(ctx))
        ctx.call_on_close(store.close)
        store.derive_scp03(label, b"\x00")  # fail now, with one line, if the key is unusable
    except KeystoreError as exc:
        raise click.ClickException(str(exc)) from None
    return partial(store.derive_scp03, label)


@click.group(name="card-sim")
def card_sim() -> None:
    """Virtual cards: blank stock, inspection, and attaching one to pcscd (vsmartcard-vpcd)."""


@card_sim.command("new-stock")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", default=10, show_default=True, help="Number of blank cards.")
@click.option("--first-serial", default=1, show_default=True, help="Serial of the first card.")
@click.option("--master-key-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Issuer SCP03 master key (hex). Default: the GP test key.")
@click.option("--master-key-label", default=None,
              help="Label of the issuer's SCP03 master key in the configured keystore "
                   "(see `issuance pki issue-master-key`).")
@click.pass_context
def new_stock(ctx: click.Context, directory: Path, count: int, first_serial: int,
              master_key_file: Path | None, master_key_label: str | None) -> None:
    """Create DIRECTORY with COUNT blank card files, each with its own serial and KDD."""
    master = _master_key(ctx, master_key_file, master_key_label)
    directory.mkdir(parents=True, exist_ok=True)
    for serial in range(first_serial, first_serial + count):
        path = directory / f"card-{serial:010d}.json"
        if path.exists():
            raise click.ClickException(f"{path} exists; stock is never overwritten")
        VirtualCard.blank(serial, master, path)
    click.echo(f"created {count} blank cards in {directory}")


@card_sim.command("info")
@click.argument("card_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def info(card_file: Path) -> None:
    """Show a card file: serial, KDD, life cycles and files (never keys or PINs)."""
    state = VirtualCard.load(card_file).state
    click.echo(f"serial        {state.serial}")
    click.echo(f"KDD           {state.kdd.hex().upper()}")
    click.echo(f"life cycle    {profile.CARD_STATES.get(state.life_cycle, hex(state.life_cycle))}")
    click.echo(f"key version   {state.keys.kvn:#04x}")
    click.echo(f"auth failures {state.auth_failures}/{state.max_auth_failures}")
    for df in state.applications():
        aid = (df.aid or b"").hex().upper()
        click.echo(f"application   {aid} life cycle {df.life_cycle:#04x}")
        for ef in df.files.values():
            click.echo(f"  EF {ef.fid:04X} size {ef.size}")
    click.echo(f"BAC key set   {'yes' if state.bac_seed else 'no'}")
    click.echo(f"PACE          MRZ {'yes' if state.pace_mrz else 'no'}, "
               f"CAN {'yes' if state.can else 'no'}")
    click.echo(f"CA / AA keys  {'yes' if state.ca_key else 'no'} / "
               f"{'yes' if state.aa_key else 'no'}")
    click.echo(f"signing key   {'yes' if state.signing_key else 'no'}")
    click.echo(f"PIN tries     {state.pin.tries_left}/{state.pin.max_tries}")


class _Attachment:
    """The state of `attach`: one slot, the current card, and what to do next."""

    def __init__(self, slot: VirtualReaderSlot, card_file: Path | None) -> None:
        self.slot = slot
        self.card_file = card_file
        self.quit = threading.Event()

    def load(self, card_file: Path | None) -> VirtualCard:
        if card_file is not None:
            self.card_file = card_file
        if self.card_file is None:
            return VirtualCard.blank(0, GP_TEST_KEY)
        return VirtualCard.load(self.card_file)

    def insert(self, card_file: Path | None = None) -> str:
        card = self.load(card_file)
        self.slot.insert(card)
        return f"inserted serial={card.state.serial}"

    def remove(self) -> str:
        self.slot.remove()
        return "removed"

    def link_lost(self) -> bool:
        """True once, when the card's link ended without a remove (pcscd gone, card torn)."""
        link = self.slot.link
        if link is None or self.slot.inserted:
            return False
        self.slot.remove()
        return True

    def status(self) -> str:
        card = self.slot.card
        if not self.slot.inserted or card is None:
            return "empty"
        return f"inserted serial={card.state.serial}"

    def command(self, line: str) -> str:
        """One control-socket line: insert [FILE] | remove | status | tear N | fail INS SW | quit."""
        words = line.split()
        if not words:
            return "error empty command"
        verb, args = words[0].lower(), words[1:]
        try:
            if verb == "insert":
                return "ok " + self.insert(Path(args[0]) if args else None)
            if verb == "remove":
                return "ok " + self.remove()
            if verb == "status":
                return "ok " + self.status()
            if verb in ("tear", "fail"):
                card = self.slot.card
                if card is None:
                    return "error no card"
                plan = card.faults or FaultPlan()
                if verb == "tear":
                    plan.tear_at = plan.seen + int(args[0])
                else:
                    plan.status_for_ins[int(args[0], 16)] = int(args[1], 16)
                card.faults = plan
                return "ok"
            if verb == "quit":
                self.quit.set()
                return "ok bye"
        except (OSError, ValueError, IndexError) as exc:
            return f"error {exc}"
        return f"error unknown command {verb}"


def _serve_control(attachment: _Attachment, path: Path) -> None:
    if path.exists():
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    server.settimeout(0.2)
    try:
        while not attachment.quit.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn, conn.makefile("rw") as stream:
                for line in stream:
                    stream.write(attachment.command(line) + "\n")
                    stream.flush()
                    if attachment.quit.is_set():
                        break
    finally:
        server.close()
        path.unlink(missing_ok=True)


@card_sim.command("attach")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="vpcd address.")
@click.option("--port", default=DEFAULT_PORT, show_default=True,
              help="vpcd port: 35963 is reader 'Virtual PCD 00 00', 35964 is '00 01'.")
@click.option("--card", "card_file", type=click.Path(dir_okay=False, exists=True,
              path_type=Path), help="Card file (default: a throwaway blank card).")
@click.option("--insert-after", type=float, default=0.0, show_default=True,
              help="Seconds before the card goes into the reader.")
@click.option("--remove-after", type=float, default=None,
              help="Seconds after insertion before the card is taken out again.")
@click.option("--control", "control_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Unix socket taking lines: insert [FILE], remove, status, tear N, "
                   "fail INS SW, quit.")
@click.option("--no-insert", is_flag=True, help="Start with the reader empty.")
def attach(host: str, port: int, card_file: Path | None, insert_after: float,
           remove_after: float | None, control_path: Path | None, no_insert: bool) -> None:
    """Put a virtual card into a vpcd reader so pcscd sees it.

    SIGUSR1 inserts the card, SIGUSR2 removes it, SIGINT/SIGTERM end the program.
    """
    attachment = _Attachment(VirtualReaderSlot(host, port), card_file)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGUSR1:
            threading.Thread(target=attachment.insert, daemon=True).start()
        elif signum == signal.SIGUSR2:
            threading.Thread(target=attachment.remove, daemon=True).start()
        else:
            attachment.quit.set()

    for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    if control_path is not None:
        threading.Thread(target=_serve_control, args=(attachment, control_path),
                         daemon=True).start()
    click.echo(f"card-sim pid {os.getpid()} on {host}:{port}")
    if not no_insert:
        if attachment.quit.wait(insert_after):
            return
        try:
            click.echo(attachment.insert())
        except OSError as exc:
            raise click.ClickException(f"cannot reach vpcd at {host}:{port}: {exc}") from exc
        if remove_after is not None and not attachment.quit.wait(remove_after):
            click.echo(attachment.remove())
    sys.stdout.flush()
    while not attachment.quit.wait(0.5):
        if attachment.link_lost():
            click.echo("card link ended (pcscd closed it or the card was torn); reader empty; "
                       "insert again with SIGUSR1 or the control socket", err=True)
    attachment.remove()
    click.echo("card-sim stopped")


if __name__ == "__main__":
    card_sim()
