"""The screens' words by area, each a dict of key -> (English, Arabic); i18n merges them."""
