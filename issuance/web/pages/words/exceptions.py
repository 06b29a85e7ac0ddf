"""Words of the exceptions screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
}
