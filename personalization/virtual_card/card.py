"""The virtual card OS: power, APDU dispatch, secure messaging layers (ISO/IEC 7816-4, GPC 2.3)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from personalization import tlv
from personalization.apdu import CLA_CHAINING, CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.protocol.scp03 import C_MAC, CLA_SECURE_MESSAGING
from personalization.status_words import SW, CardError
from personalization.virtual_card import card_manager, files, rules
from personalization.virtual_card import state as card_state
from personalization.virtual_card.access import ACCESS_COMMANDS
from personalization.virtual_card.context import Context
from personalization.virtual_card.faults import CardTorn, FaultPlan
from personalization.virtual_card.lds_app import LDS_COMMANDS
from personalization.virtual_card.signature_app import SIGNATURE_COMMANDS
from personalization.virtual_card.state import CardState

log = logging.getLogger(__name__)

INS_SELECT = rules.INS_SELECT
INS_GET_RESPONSE = rules.INS_GET_RESPONSE
SW_SELECTION_FAILED = 0x6999  # GPC 2.3 §11.9.4: application locked


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


class VirtualCard:
    """A card a station cannot tell from a blank production card (DESIGN §4)."""

    def __init__(
        self,
        state: CardState,
        path: Path | None = None,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.state = state
        self.path = Path(path) if path is not None else None
        self.rng = rng
        self.faults: FaultPlan | None = None
        self.ctx: Context | None = None
        self._pending = b""
        self._protected = False
        self.apdu_count = 0

    def __repr__(self) -> str:
        return f"VirtualCard(serial={self.state.serial}, path={self.path})"

    # --- life of the card object ---------------------------------------------------------
    @classmethod
    def blank(cls, serial: int, master_key: card_state.KeySource, path: Path | None = None,
              rng: Callable[[int], bytes] = os.urandom) -> VirtualCard:
        """A new blank card whose SCP03 keys are diversified from master_key by its KDD."""
        card = cls(card_state.blank_state(serial, master_key), path, rng)
        if path is not None:
            card.save()
        return card

    @classmethod
    def load(cls, path: Path, rng: Callable[[int], bytes] = os.urandom) -> VirtualCard:
        return cls(card_state.load(Path(path)), Path(path), rng)

    def save(self, path: Path | None = None) -> None:
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("card has no file")
        card_state.save(self.state, target)

    # --- contacts ------------------------------------------------------------------------
    @property
    def atr(self) -> bytes:
        return profile.atr()

    @property
    def powered(self) -> bool:
        return self.ctx is not None

    def power_on(self) -> bytes:
        self.ctx = Context(self.state, self.rng)
        self._pending = b""
        return self.atr

    def power_off(self) -> None:
        self.ctx = None
        self._pending = b""

    def reset(self) -> bytes:
        self.power_off()
        return self.power_on()

    def process(self, raw: bytes) -> bytes:
        """One command APDU in, one response APDU out; raises CardTorn for an injected tear."""
        if self.ctx is None:
            self.power_on()
        ctx = self.ctx
        assert ctx is not None
        self.apdu_count += 1
        plan = self.faults
        number = 0
        if plan is not None:
            plan.seen += 1
            number = plan.seen
            if plan.tear_at == number and not plan.tear_after_write:
                self._tear()
        if len(raw) > profile.MAX_COMMAND + 7:
            return _sw(SW.WRONG_LENGTH).to_bytes()
        try:
            cmd = CommandAPDU.parse(raw)
        except CardError as exc:
            return _sw(exc.sw).to_bytes()
        if plan is not None:
            forced = plan.status_at.get(number, plan.status_for_ins.get(cmd.ins))
            if forced is not None:
                return _sw(forced).to_bytes()
        self._protected = False
        try:
            if plan is not None and cmd.ins in plan.crash_for_ins:
                raise RuntimeError(f"injected card OS fault on INS {cmd.ins:02X}")
            response = self._execute(ctx, cmd)
        except Exception:
            # No exception ever leaves the card OS: like a real chip it answers 6F00 and
            # forgets whatever the broken command was part of.
            log.exception("card OS error on %r", cmd)
            ctx.end_sessions()
            response = _sw(SW.NO_PRECISE_DIAGNOSIS)
        if ctx.dirty:
            ctx.dirty = False
            if self.path is not None:
                self.save()
        if plan is not None and plan.tear_at == number and plan.tear_after_write:
            self._tear()
        log.debug("INS %02X -> SW %04X", cmd.ins, response.sw)
        return self._deliver(cmd, response).to_bytes()

    def _tear(self) -> None:
        # Writes are transactional: a tear before execution leaves the EEPROM untouched.
        self.power_off()
        self.faults = None
        raise CardTorn("card torn")

    def _deliver(self, cmd: CommandAPDU, response: ResponseAPDU) -> ResponseAPDU:
        """Hand out at most Ne bytes; the rest waits for GET RESPONSE (ISO/IEC 7816-4 §5.3.4)."""
        ne = cmd.ne
        if self._protected and ne:
            # Le counts plain data; R-MAC, R-ENC padding and SM objects may go beyond it.
            ne = 65536 if cmd.is_extended else 256
        if not ne or len(response.data) <= ne or response.sw != SW.OK:
            return response
        self._pending = response.data[ne:]
        remaining = min(len(self._pending), 256) & 0xFF  # 00 means 256 or more
        return ResponseAPDU(response.data[:ne], 0x6100 | remaining)

    def _get_response(self, cmd: CommandAPDU) -> ResponseAPDU:
        if not self._pending:
            return _sw(SW.CONDITIONS_NOT_SATISFIED)
        data, self._pending = self._pending, b""
        return ResponseAPDU(data, SW.OK)

    # --- command processing --------------------------------------------------------------
    def _execute(self, ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
        ctx.sm_limit = None
        refused = rules.refusal(cmd)
        if refused is not None:
            ctx.drop_chain()
            return _sw(refused)
        if cmd.ins == INS_GET_RESPONSE and cmd.cla & 0x7C == 0:
            return self._get_response(cmd)
        self._pending = b""
        if self.state.life_cycle == profile.TERMINATED and cmd.ins != 0xCA:
            return _sw(SW.FUNCTION_NOT_SUPPORTED)
        if cmd.cla & 0x80 and cmd.ins == 0x82:
            return self._guard(ctx, card_manager.external_authenticate, cmd)
        if cmd.cla & 0x80 and cmd.ins == 0x50:
            return self._guard(ctx, card_manager.initialize_update, cmd)
        # The sessions that protect the answer are those the command arrived under, even when
        # the command ends or replaces them (SELECT of another application, chip authentication).
        scp, sm = ctx.scp, ctx.sm
        unwrapped = self._unwrap(ctx, cmd)
        if isinstance(unwrapped, ResponseAPDU):
            return unwrapped
        plain, scp_wrap, sm_wrap = unwrapped
        if sm_wrap and sm is not None and cmd.ne:
            ctx.sm_limit = sm.plain_capacity(cmd.ne, bool(cmd.ins & 1))
        response = self._run(ctx, plain)
        if sm_wrap and sm is not None:
            response = sm.protect_response(response, bool(cmd.ins & 1))
        if scp_wrap and scp is not None and ctx.scp is scp:
            response = scp.protect_response(response)
        self._protected = sm_wrap or scp_wrap
        return response

    @staticmethod
    def _unwrap(ctx: Context, cmd: CommandAPDU
                ) -> ResponseAPDU | tuple[CommandAPDU, bool, bool]:
        """Verify and decrypt SCP03 and ICAO secure messaging; an error answers in plain."""
        gp_sm = cmd.cla & 0x0C == CLA_SECURE_MESSAGING
        iso_sm = cmd.cla & 0x08 == 0x08
        scp_wrap = sm_wrap = False
        # GPC 2.3 §11.9: a plain SELECT by AID is always accepted; it closes the channel.
        plain_select = cmd.ins == INS_SELECT and cmd.p1 == 0x04 and not cmd.cla & 0x0C
        if ctx.scp is not None and (gp_sm or ctx.scp.level & C_MAC) and not plain_select:
            try:
                cmd = ctx.scp.verify_command(cmd)
            except CardError as exc:
                # GPC Amd D §6.2.4: a failed C-MAC ends the secure channel session.
                ctx.scp = None
                ctx.drop_chain()
                return _sw(exc.sw)
            scp_wrap = True
        elif gp_sm:
            return _sw(SW.SECURITY_STATUS_NOT_SATISFIED)
        if ctx.sm is not None:
            if iso_sm:
                try:
                    cmd = ctx.sm.unprotect_command(cmd)
                except CardError as exc:
                    # ICAO 9303-11 §9.8.6.2: an SM error aborts secure messaging.
                    ctx.sm = None
                    ctx.drop_chain()
                    return _sw(exc.sw)
                sm_wrap = True
            else:
                ctx.sm = None
        elif iso_sm:
            return _sw(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        return cmd, scp_wrap, sm_wrap

    def _run(self, ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
        """Buffer a chained part, or run the (reassembled) command (ISO/IEC 7816-4 §5.3.3)."""
        refused = rules.chain_refusal(ctx, cmd)
        if refused is not None:
            ctx.drop_chain()
            return _sw(refused)
        if cmd.cla & CLA_CHAINING and cmd.ins in rules.CHAINABLE:
            if len(ctx.chain) + len(cmd.data) > profile.MAX_COMMAND:
                ctx.drop_chain()
                return _sw(SW.WRONG_LENGTH)
            ctx.chain += cmd.data
            ctx.chain_header = rules.chain_header(cmd)
            return _sw(SW.OK)
        if ctx.chain:
            cmd = replace(cmd, data=bytes(ctx.chain) + cmd.data)
        ctx.drop_chain()
        if cmd.ins == INS_SELECT and cmd.p1 == 0x04:
            return self._select_application(ctx, cmd)
        return self._guard(ctx, self._dispatch, cmd)

    @staticmethod
    def _guard(ctx: Context, handler: Callable[[Context, CommandAPDU], ResponseAPDU],
               cmd: CommandAPDU) -> ResponseAPDU:
        try:
            return handler(ctx, cmd)
        except CardError as exc:
            return _sw(exc.sw)

    def _select_application(self, ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
        """SELECT by DF name (ISO/IEC 7816-4 §11.2.2, GPC 2.3 §11.9)."""
        aid = cmd.data
        state = self.state
        if cmd.p2 not in (0x00, 0x04, 0x0C):
            return _sw(SW.INCORRECT_P1P2)
        if not aid or aid == state.isd_aid:
            ctx.select_application(None, isd=True)
            fci = tlv.encode(0x6F, tlv.encode(0x84, state.isd_aid) + tlv.encode(
                0xA5, tlv.encode(0x9F6E, state.kdd) + tlv.encode(0x9F65, b"\xff")))
            return ResponseAPDU(b"" if cmd.p2 & 0x0C == 0x0C else fci, SW.OK)
        df = state.application(aid)
        if df is None or state.life_cycle == profile.CARD_LOCKED:
            return _sw(SW.FILE_NOT_FOUND)
        if df.life_cycle == profile.APP_LOCKED:
            return _sw(SW_SELECTION_FAILED)
        ctx.select_application(df, keep_sm=df.aid == profile.LDS_AID)
        return ResponseAPDU(b"" if cmd.p2 & 0x0C == 0x0C else df.fci(), SW.OK)

    def _dispatch(self, ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
        ins = cmd.ins
        if ctx.isd_selected:
            handler = card_manager.ISD_COMMANDS.get(ins)
            if handler is not None:
                return handler(ctx, cmd)
        elif cmd.cla & 0x80:
            return _sw(SW.INS_NOT_SUPPORTED)
        if ins == INS_SELECT:
            return files.select_file(ctx, cmd)
        if ins in files.FILE_COMMANDS:
            return files.FILE_COMMANDS[ins](ctx, cmd)
        df = ctx.current_df
        # PACE runs at MF level, before the eMRTD application is selected (ICAO 9303-11 §4.2).
        table = ACCESS_COMMANDS if not ctx.isd_selected else {}
        if df is not None and df.aid == profile.LDS_AID:
            table = LDS_COMMANDS
        elif df is not None and df.aid == profile.SIGNATURE_AID:
            table = SIGNATURE_COMMANDS
        handler = table.get(ins)
        if handler is None:
            return _sw(SW.INS_NOT_SUPPORTED)
        return handler(ctx, cmd)


__all__ = ["CardTorn", "FaultPlan", "VirtualCard"]
