"""SCP03 against published vectors.

Sources:
- KDF ('KDF3' diversification, NIST SP 800-108 counter mode with AES-CMAC): GlobalPlatformPro,
  tool/src/test/java/pro/javacard/gp/TestSCP03.java (testKDF3), github.com/martinpaljak/GlobalPlatformPro
- Cryptograms, C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION: osmocom pySim,
  tests/unittests/test_globalplatform.py (SCP03_Test_AES128_11/_03/_33), gitea.osmocom.org/sim-card/pysim
- Pseudo-random card challenge: GPC 2.3 Amendment D §6.2.2.1, reproduced from the same pySim
  vectors with the ISD-R AID of that card (A0000005591010FFFFFFFF8900000100).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.protocol.kdf import DIVERSIFY_ENC, StaticKeys, diversify
from personalization.protocol.scp03 import Scp03Channel, Scp03Session
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from personalization.virtual_card.state import CardState

h = bytes.fromhex
KEYS = StaticKeys(
    h("000102030405060708090a0b0c0d0e0f"),
    h("101112131415161718191a1b1c1d1e1f"),
    h("202122232425262728292a2b2c2d2e2f"),
    0x30,
)
ISD_R = h("A0000005591010FFFFFFFF8900000100")
EID_COMMAND = h("80E2910006BF3E035C015A00")
EID_PLAIN = h("bf3e125a1089882119900000000000000000000005")
CASES_PLAIN = ["80F22002", "80ca006600", "80F220020a4f0212345c054f9f70c5", "80f28002024f0000"]

@dataclass(frozen=True)
class Vector:
    init: str
    answer: str
    auth: str
    eid: str
    eid_answer: str
    cases: tuple[str, str, str, str]


VECTORS = {
    "AES128 C-MAC R-MAC (11)": Vector(
        init="8050300008b13e5f938fc108c400",
        answer="000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002",
        auth="84821100107d5f5826a993ebc89eea24957fa0b3ce",
        eid="84e291000ebf3e035c015a558d036518a2829700",
        eid_answer="bf3e125a1089882119900000000000000000000005971be68992dbbdfa",
        cases=("84f220020863a63f8959827fb2", "84ca006608a0c6a4a74166f7ce00",
               "84f22002124f0212345c054f9f70c52249b50272656536",
               "84f280020a4f00e91443f6dce6b8ed00"),
    ),
    "AES128 C-MAC C-DEC (03)": Vector(
        init="80503000088e1552d0513c60f300",
        answer="0000000000000000000030037030760cd2c47c1dd395065fe5ead8a9d7000001",
        auth="8482030010fd4721a14d9b07003c451d2f8ae6bb21",
        eid="84e2910018ca9c00f6713d79bc8baa642bdff51c3f6a4082d3bd9ad26c00",
        eid_answer="bf3e125a1089882119900000000000000000000005",
        cases=("84f2200208c9811b11f1264cf1", "84ca006608e10ab60b3054798800",
               "84f22002184e2908bdb48b2315a55482e9e936ca122d6ecfae7d17416e",
               "84f28002180dd10a6b6193e5340b9e77d32d5a179cd710ac2773aefb2800"),
    ),
    "AES128 full (33)": Vector(
        init="8050300008fdf38259a1e0de4400",
        answer="000000000000000000003003703b1aca81e821f219081cdc01c26b372d000003",
        auth="84823300108c36f96bcc00724a4e13ad591d7da3f0",
        eid="84e2910018267a85dfe4a98fca6fb0527e0dfecce4914e40401433c87f00",
        eid_answer="f3ba2b1013aa6224f5e1c138d71805c569e5439b47576260b75fc021b25097cb"
                   "2e68f8a0144975b9",
        cases=("84f2200208ac6a59024bed84cc", "84ca006608409912ad8fb7aed000",
               "84f22002185f3dafc3ac14c381536a488bf44e06d056df9d74dbd21e5a",
               "84f280021865165105be3373347d0424d4400af2ac393f569ec779389e00"),
    ),
}


def test_kdf3_diversification_matches_globalplatformpro() -> None:
    master = h("8C72C72CF908411653018807950D82FBAD947562F0828A0B10B8B9606ABF3BCD")
    kdd = h("D9B1DE5D0362DEDCE4FB")
    assert diversify(master, DIVERSIFY_ENC, kdd) == h(
        "9AAC5D0B3601F89438A0D9D0B6B256CFB47E6462DFA5228D3420C4AC7C224781"
    )


class _Recorder:
    """Answers from a script and records what the host sent (the wire, not a PC/SC mock)."""

    def __init__(self, answers: list[ResponseAPDU]) -> None:
        self.answers = answers
        self.sent: list[bytes] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        self.sent.append(command.to_bytes())
        return self.answers.pop(0)


@pytest.mark.parametrize("name", list(VECTORS))
def test_host_side_matches_pysim_vectors(name: str) -> None:
    v = VECTORS[name]
    init = h(v.init)
    level = h(v.auth)[2]
    wire = _Recorder([ResponseAPDU(h(v.answer), 0x9000), ResponseAPDU(b"", 0x9000)])
    channel = Scp03Channel(wire, KEYS, level, rng=lambda n: init[5:13])
    channel.open(0x30)
    assert wire.sent == [init, h(v.auth)]
    session = channel.session
    assert session is not None
    assert session.wrap(CommandAPDU.parse(EID_COMMAND)).to_bytes() == h(v.eid)
    assert session.unwrap(ResponseAPDU(h(v.eid_answer), 0x9000)).data == EID_PLAIN
    for plain, wrapped in zip(CASES_PLAIN, v.cases, strict=True):
        assert session.wrap(CommandAPDU.parse(h(plain))).to_bytes() == h(wrapped)


@pytest.mark.parametrize("name", list(VECTORS))
def test_card_side_matches_pysim_vectors(name: str) -> None:
    """The virtual card answers INITIALIZE UPDATE byte for byte and accepts the host's MACs."""
    v = VECTORS[name]
    answer = h(v.answer)
    state = CardState(serial=1, kdd=bytes(10), keys=KEYS, isd_aid=ISD_R,
                      sequence_counter=int.from_bytes(answer[-3:], "big") - 1)
    card = VirtualCard(state)
    transport = InProcessTransport(card)
    transport.connect()
    transport.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, ISD_R, 256)).check()
    assert transport.transmit_raw(h(v.init)) == answer + b"\x90\x00"
    assert transport.transmit_raw(h(v.auth)) == b"\x90\x00"

    # The card's secure-channel engine unwraps the host's commands and protects its answers.
    assert card.ctx is not None and card.ctx.scp is not None
    engine: Scp03Session = card.ctx.scp
    assert engine.verify_command(CommandAPDU.parse(h(v.eid))).data == EID_COMMAND[5:-1]
    protected = engine.protect_response(ResponseAPDU(EID_PLAIN, 0x9000))
    assert protected.data == h(v.eid_answer)
    for plain, wrapped in zip(CASES_PLAIN, v.cases, strict=True):
        unwrapped = engine.verify_command(CommandAPDU.parse(h(wrapped)))
        assert unwrapped.data == CommandAPDU.parse(h(plain)).data


def test_card_rejects_a_tampered_command_mac() -> None:
    v = VECTORS["AES128 C-MAC R-MAC (11)"]
    answer = h(v.answer)
    state = CardState(serial=1, kdd=bytes(10), keys=KEYS, isd_aid=ISD_R,
                      sequence_counter=int.from_bytes(answer[-3:], "big") - 1)
    transport = InProcessTransport(VirtualCard(state))
    transport.connect()
    transport.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, ISD_R, 256)).check()
    transport.transmit_raw(h(v.init))
    assert transport.transmit_raw(h(v.auth)) == b"\x90\x00"
    bad = bytearray(h(v.cases[0]))
    bad[-1] ^= 0x01
    assert transport.transmit_raw(bytes(bad)) == b"\x69\x82"
    # The session is gone: even the genuine next command is refused.
    assert transport.transmit_raw(h(v.cases[0])) == b"\x69\x82"
