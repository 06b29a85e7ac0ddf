"""Words of the batches screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
}
