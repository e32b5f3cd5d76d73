"""The one exception type every synth-time check raises, so callers can catch lambda-patterns' own errors."""


class ConfigurationError(ValueError):
    """A construct was given props that would deploy something broken or unsafe."""
