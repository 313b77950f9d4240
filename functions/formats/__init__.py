"""One module per log format; each exposes `parse(...) -> RequestColumns | None`.

None means "not this format"; a value that is this format but unreadable raises
`functions.fields.BadFieldError`.
"""
