"""The whole LDS of one card, from holder and document data to signed bytes (ICAO 9303-10 §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from personalization.lds import com, dg1, dg2, dg7, dg11, dg12, profile, sod
from personalization.lds.holder import DocumentData, HolderData
from personalization.lds.mrz import Td1, mrz_information, td1
from personalization.lds.signer import Signer
from personalization.protocol.bac import key_seed


@dataclass(frozen=True)
class Lds:
    """Every file of the LDS1 application, in the order the station writes them."""

    files: dict[profile.LdsFile, bytes] = field(repr=False)
    mrz: Td1 = field(repr=False)

    @property
    def data_groups(self) -> dict[int, bytes]:
        return {f.number: data for f, data in self.files.items() if f.number is not None}

    @property
    def bac_seed(self) -> bytes:
        """Kseed from the MRZ information (ICAO 9303-11 §9.7.2)."""
        return key_seed(mrz_information(self.mrz.document_number, self.mrz.birth_date,
                                        self.mrz.expiry_date))


def build(document: DocumentData, holder: HolderData, signer: Signer,
          chip_files: dict[profile.LdsFile, bytes] | None = None,
          signing_time: datetime | None = None) -> Lds:
    """EF.COM, DG1, DG2, DG7, DG11, DG12, the chip's DG14/DG15 if given, and the EF.SOD over them.

    The EF.SOD is signed through the signer port; DG14 and DG15 hold keys generated on the card, so
    the station signs only once the card has made them (ICAO 9303-10 §4.7.14-15).
    """
    mrz = td1(document, holder)
    groups = {
        profile.DG1: dg1.build(mrz),
        profile.DG2: dg2.build(holder.face_jpeg, holder.sex),
        profile.DG7: dg7.build(holder.signature_jpeg),
        profile.DG11: dg11.build(holder),
        profile.DG12: dg12.build(document),
        **(chip_files or {}),
    }
    numbered = {f.number: data for f, data in groups.items() if f.number is not None}
    files = {profile.EF_COM: com.build(list(groups)), **groups,
             profile.EF_SOD: sod.build(numbered, signer, signing_time)}
    return Lds(files, mrz)
