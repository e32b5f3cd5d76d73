"""The one exception type every synth-time check raises, so callers can catch lambda-patterns' own errors."""

#: Only for errors raised before codes existed; a test keeps every raise site in the library off it.
UNSPECIFIED = "LambdaPatterns.Unspecified"


class ConfigurationError(ValueError):
    """A construct was given props that would deploy something broken or unsafe.

    :param message: what is wrong and how to fix it, naming the construct's path and the prop.
    :param code: a stable identifier of the rule that failed (``LambdaPatterns.<Area>.<Rule>``, e.g.
        ``LambdaPatterns.Props.Exclusive``), as aws-cdk-lib's ``ValidationError`` carries one: match on it,
        not on the message, which may be reworded.
    """

    def __init__(self, message: str, *, code: str = UNSPECIFIED) -> None:
        super().__init__(message)
        self.code = code
