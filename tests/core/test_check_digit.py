"""One ICAO 7-3-1 check digit for the whole system, and it refuses what the MRZ cannot hold."""

from __future__ import annotations

import pytest

from issuance.numbers import check_digit
from personalization.lds import mrz
from printing import mrz as printed_mrz


def test_icao_9303_3_worked_examples() -> None:
    assert check_digit("L898902C3") == "6"  # document number, ICAO 9303-3 §4.9 example
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"


@pytest.mark.parametrize("bad", ["l898902c3", "L8989-02C", "A B", "أحمد"])
def test_a_character_outside_the_mrz_set_is_refused_not_read_as_zero(bad: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        check_digit(bad)


def test_the_chip_and_the_printer_use_the_same_function() -> None:
    assert mrz.check_digit is check_digit
    assert printed_mrz.check_digit is check_digit
