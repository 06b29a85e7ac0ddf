"""PACE generic mapping on ECDH brainpoolP256r1 with AES-128 (issue 13, point 2).

The worked example of ICAO 9303-11 Appendix G.1 is reproduced value by value, and then the
whole APDU dialogue between our inspection system and our virtual card with the example's
random numbers; then PACE with the CAN and the MRZ through the real pcscd.
"""

from __future__ import annotations

import pytest

from personalization import commands, tlv
from personalization.apdu import CommandAPDU
from personalization.lds import profile
from personalization.protocol import pace
from personalization.protocol import security_infos as si
from personalization.protocol.aes_sm import icao_kdf
from personalization.protocol.ec_params import BRAINPOOL_P256R1, shared_x
from personalization.status_words import CardError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from tests.personalization.chip_setup import CAN, DG1, DOCUMENT, LARGE, Keys, personalize, scripted

H = bytes.fromhex
# ICAO 9303-11 Appendix G.1 (ECDH generic mapping, brainpoolP256r1, AES-128, MRZ password).
CARD_ACCESS = H("31143012060A04007F0007020204020202010202010D")
K_MRZ = H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
K_PI = H("89DED1B26624EC1E634C1989302849DD")
NONCE = H("3F00C4D39D153F2B2A214A078D899B22")
ENCRYPTED_NONCE = H("95A3A016522EE98D01E76CB6B98B42C3")
SK_MAP_IFD = H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
SK_MAP_IC = H("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560")
PK_MAP_IFD = H("047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
               "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D")
PK_MAP_IC = H("04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
              "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54")
H_X = 0x60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5
G_HAT = (0x8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2,
         0x8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522)
SK_IFD = H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
SK_IC = H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
PK_IFD = H("042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
           "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")
PK_IC = H("049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
          "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
SHARED = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
T_IFD = H("C2B0BD78D94BA866")
T_IC = H("3ABB9674BCE93C08")


def test_appendix_g_key_derivation_and_mapping() -> None:
    params = BRAINPOOL_P256R1
    password = pace.PacePassword.mrz(*DOCUMENT)
    assert password.secret == K_MRZ and password.key == K_PI
    assert pace.encrypt_nonce(K_PI, NONCE) == ENCRYPTED_NONCE
    assert pace.decrypt_nonce(K_PI, ENCRYPTED_NONCE) == NONCE
    sk_map_ifd, sk_map_ic = int.from_bytes(SK_MAP_IFD, "big"), int.from_bytes(SK_MAP_IC, "big")
    assert params.encode_point(params.generator * sk_map_ifd) == PK_MAP_IFD
    assert params.encode_point(params.generator * sk_map_ic) == PK_MAP_IC
    shared = params.decode_point(PK_MAP_IC) * sk_map_ifd
    assert shared.x() == H_X == (params.decode_point(PK_MAP_IFD) * sk_map_ic).x()
    g_hat = pace.map_generator(params, NONCE, shared)
    assert (g_hat.x(), g_hat.y()) == G_HAT
    assert params.encode_point(g_hat * int.from_bytes(SK_IFD, "big")) == PK_IFD
    assert params.encode_point(g_hat * int.from_bytes(SK_IC, "big")) == PK_IC
    assert shared_x(int.from_bytes(SK_IFD, "big"), params.decode_point(PK_IC), params) == SHARED
    assert shared_x(int.from_bytes(SK_IC, "big"), params.decode_point(PK_IFD), params) == SHARED
    ks_mac = icao_kdf(SHARED, 2)
    assert pace.token(ks_mac, PK_IC) == T_IFD and pace.token(ks_mac, PK_IFD) == T_IC
    assert pace.card_access(13) == CARD_ACCESS


def test_appendix_g_dialogue_with_the_virtual_card(blank_card: VirtualCard) -> None:
    """Both sides with the example's random numbers: every APDU matches Appendix G."""
    blank_card.state.pace_mrz = K_MRZ
    blank_card.rng = scripted(NONCE, SK_MAP_IC, SK_IC)
    transport = InProcessTransport(blank_card)
    transport.connect()
    exchanged: list[tuple[bytes, bytes]] = []
    original = transport.transmit_raw

    def tap(apdu: bytes) -> bytes:
        answer = original(apdu)
        exchanged.append((apdu, answer))
        return answer

    transport.transmit_raw = tap  # type: ignore[method-assign]
    channel = pace.authenticate(transport, pace.PacePassword.mrz(*DOCUMENT), CARD_ACCESS,
                                rng=scripted(SK_MAP_IFD, SK_IFD))
    assert exchanged == [
        (H("0022C1A412800A04007F0007020204020283010184010D"), H("9000")),
        (H("10860000027C0000"), H("7C128010") + ENCRYPTED_NONCE + H("9000")),
        (H("10860000457C43814104") + PK_MAP_IFD[1:] + H("00"), H("7C438241") + PK_MAP_IC + H("9000")),
        (H("10860000457C43834104") + PK_IFD[1:] + H("00"), H("7C438441") + PK_IC + H("9000")),
        (H("008600000C7C0A8508") + T_IFD + H("00"), H("7C0A8608") + T_IC + H("9000")),
    ]
    assert channel.session.ssc_bytes == bytes(16)


def _card_access(transport: Transport) -> bytes:
    """Read EF.CardAccess in the MF, in plain, by its short EF identifier."""
    transport.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).check()
    return transport.transmit(CommandAPDU(0x00, 0xB0, 0x80 | profile.SFI_EF_CARD_ACCESS, 0,
                                          le=256)).check("EF.CardAccess")


@pytest.mark.parametrize("password", [pace.PacePassword.can(CAN),
                                      pace.PacePassword.mrz(*DOCUMENT)], ids=["CAN", "MRZ"])
def test_pace_then_read_the_lds(transport: Transport, card_keys: Keys,
                                password: pace.PacePassword) -> None:
    personalize(transport, card_keys)
    transport.reconnect()
    card_access = _card_access(transport)
    infos = si.parse(card_access)
    assert [i.protocol for i in infos] == [si.PACE_ECDH_GM_AES_128]
    assert infos[0].integer("optional") == profile.PACE_PARAMETER_ID
    channel = pace.authenticate(transport, password, card_access)
    channel.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert commands.read_file(channel, 0x0101, len(DG1), 256) == DG1
    assert commands.read_file(channel, 0x0102, len(LARGE), 256) == LARGE
    # Without PACE or BAC the data groups stay closed.
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert transport.transmit(commands.read_binary(0, 4)).sw in (0x6982, 0x6986)


def test_wrong_can_is_refused_and_leaves_no_session(transport: Transport, card_keys: Keys
                                                     ) -> None:
    personalize(transport, card_keys)
    transport.reconnect()
    card_access = _card_access(transport)
    with pytest.raises(CardError) as err:
        pace.authenticate(transport, pace.PacePassword.can("654321"), card_access)
    assert err.value.sw == 0x6300
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    transport.transmit(commands.select_fid(0x0101)).check()
    assert transport.transmit(commands.read_binary(0, 4)).sw == 0x6982
    # The right CAN still works afterwards.
    channel = pace.authenticate(transport, pace.PacePassword.can(CAN), card_access)
    channel.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert commands.read_file(channel, 0x0101, 8, 8) == DG1[:8]


def test_pace_refuses_out_of_order_and_malformed_steps(transport: Transport, card_keys: Keys
                                                       ) -> None:
    personalize(transport, card_keys)
    transport.reconnect()
    assert transport.transmit(pace.general_authenticate(0, b"", last=False)).sw == 0x6985
    unknown = tlv.encode(0x80, si.oid_content(si.CA_ECDH_AES_128)) + tlv.encode(0x83, b"\x02")
    assert transport.transmit(CommandAPDU(0x00, 0x22, 0xC1, 0xA4, unknown)).sw == 0x6A88
    info = pace.PaceInfo(profile.PACE_PARAMETER_ID)
    transport.transmit(pace.mse_set_at(pace.PacePassword.can(CAN), info)).check()
    transport.transmit(pace.general_authenticate(0, b"", last=False)).check()
    off_curve = b"\x04" + bytes(64)
    assert transport.transmit(pace.general_authenticate(0x81, off_curve, last=False)).sw == 0x6A80
    # The run is over: the next step has nothing to continue.
    assert transport.transmit(pace.general_authenticate(0x81, off_curve, last=False)).sw == 0x6985
