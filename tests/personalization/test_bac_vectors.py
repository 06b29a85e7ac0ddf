"""BAC and secure messaging against the worked example of ICAO Doc 9303 Part 11, Appendix D.

Values from ICAO 9303-11 (8th ed. 2021) Appendix D.2 (key derivation), D.3 (authentication and
session keys) and D.4 (secure messaging: SELECT EF.COM, READ BINARY of its first 4 bytes and the
rest). The chip's K.IC 0B4F80323EB3191CB04970CB4052790B is the one D.3 uses.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from personalization import commands
from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.lds.mrz import mrz_information
from personalization.lds.profile import AC_BAC, AC_NEVER
from personalization.padding import pad
from personalization.protocol import bac
from personalization.protocol.des import retail_mac, tdes_cbc_encrypt
from personalization.protocol.secure_messaging import SmSession
from personalization.status_words import CardError
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from personalization.virtual_card.filesystem import ElementaryFile
from personalization.virtual_card.state import blank_state

h = bytes.fromhex
MRZ_INFO = "L898902C<369080619406236"
K_SEED = h("239AB9CB282DAF66231DC5A4DF6BFBAE")
K_ENC = h("AB94FDECF2674FDFB9B391F85D7F76F2")
K_MAC = h("7962D9ECE03D1ACD4C76089DCE131543")
RND_IC = h("4608F91988702212")
RND_IFD = h("781723860C06C226")
K_IFD = h("0B795240CB7049B01C19B33E32804F0B")
K_IC = h("0B4F80323EB3191CB04970CB4052790B")
E_IFD = h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
M_IFD = h("5F1448EEA8AD90A7")
CHIP_ANSWER = h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449")
KS_ENC = h("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = h("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = h("887022120C06C226")
EF_COM = h("60145F0104303130365F36063034303030305C026175")
WIRE = [
    ("0084000008", "4608F919887022129000"),
    ("0082000028" + (E_IFD + M_IFD).hex().upper() + "28", CHIP_ANSWER.hex().upper() + "9000"),
    ("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", "990290008E08FA855A5D4C50A8ED9000"),
    ("0CB000000D9701048E08ED6705417E96BA5500",
     "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"),
    ("0CB000040D9701128E082EA28A70F3C7B53500",
     "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"),
]


def test_key_seed_and_basic_access_keys() -> None:
    assert mrz_information("L898902C", "690806", "940623") == MRZ_INFO
    assert bac.key_seed(MRZ_INFO) == K_SEED
    assert bac.basic_access_keys(K_SEED) == (K_ENC, K_MAC)


def test_terminal_cryptogram_and_session_keys() -> None:
    assert tdes_cbc_encrypt(K_ENC, RND_IFD + RND_IC + K_IFD) == E_IFD
    assert retail_mac(K_MAC, pad(E_IFD, 8)) == M_IFD
    session = bac.session_from_key_material(K_IFD, K_IC, RND_IC, RND_IFD)
    assert (session.ks_enc, session.ks_mac, session.ssc_bytes) == (KS_ENC, KS_MAC, SSC)


def _scripted(values: list[bytes]) -> Callable[[int], bytes]:
    queue = list(values)

    def rng(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == n
        return value

    return rng


def _appendix_d_card() -> VirtualCard:
    state = blank_state(1, bytes(16))
    lds = state.application(profile.LDS_AID)
    assert lds is not None
    lds.files[0x011E] = ElementaryFile(0x011E, len(EF_COM), 0x1E, AC_BAC, AC_NEVER,
                                       bytearray(EF_COM))
    state.bac_seed = K_SEED
    return VirtualCard(state, rng=_scripted([RND_IC, K_IC]))


def test_virtual_chip_reproduces_the_appendix_d_wire_trace() -> None:
    """An inspection system with the D.3 nonces sees exactly the bytes of Appendix D."""
    transport = InProcessTransport(_appendix_d_card())
    transport.connect()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    sent: list[str] = []

    class Tap:
        def transmit(self, command: CommandAPDU) -> ResponseAPDU:
            sent.append(command.to_bytes().hex().upper())
            return transport.transmit(command)

    channel = bac.authenticate(Tap(), K_SEED, rng=_scripted([RND_IFD, K_IFD]))
    assert channel.session.ssc_bytes == SSC
    channel.transmit(commands.select_fid(0x011E)).check()
    head = channel.transmit(commands.read_binary(0, 4)).check()
    rest = channel.transmit(commands.read_binary(4, 0x12)).check()
    assert head + rest == EF_COM
    assert sent == [cmd for cmd, _ in WIRE]


def test_chip_answers_match_appendix_d() -> None:
    transport = InProcessTransport(_appendix_d_card())
    transport.connect()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    for cmd, answer in WIRE:
        assert transport.transmit_raw(h(cmd)).hex().upper() == answer


def test_terminal_rejects_a_tampered_response_mac() -> None:
    session = SmSession(KS_ENC, KS_MAC, SSC)
    session.protect_command(commands.select_fid(0x011E))
    with pytest.raises(CardError) as err:
        session.unprotect_response(ResponseAPDU.parse(h("990290008E08FA855A5D4C50A8EE9000")))
    assert err.value.sw == 0x6988


def test_wrong_mrz_gets_6300_and_no_access() -> None:
    transport = InProcessTransport(_appendix_d_card())
    transport.connect()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    wrong = bac.key_seed(mrz_information("L898902C", "690806", "940624"))
    with pytest.raises(CardError) as err:
        bac.authenticate(transport, wrong, rng=_scripted([RND_IFD, K_IFD]))
    assert err.value.sw == 0x6300
    transport.transmit(commands.select_fid(0x011E)).check()
    assert transport.transmit(commands.read_binary(0, 4)).sw == 0x6982


def test_bad_command_mac_aborts_secure_messaging() -> None:
    transport = InProcessTransport(_appendix_d_card())
    transport.connect()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    bac.authenticate(transport, K_SEED, rng=_scripted([RND_IFD, K_IFD]))
    bad = bytearray(h(WIRE[2][0]))
    bad[-2] ^= 0x01
    assert transport.transmit_raw(bytes(bad)) == h("6988")
    # Secure messaging is over: the next protected command is not understood either.
    assert transport.transmit_raw(h(WIRE[2][0])) == h("6882")
