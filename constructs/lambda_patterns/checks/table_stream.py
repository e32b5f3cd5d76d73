"""Reading a table's changes needs a table with a stream (``stream=`` / ``dynamo_stream=``)."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Stream.TableStream"


def check_table_stream(where: str, table_path: str, stream_arn: str | None, hint: str | None = None) -> None:
    """``stream_arn``: the table's ``table_stream_arn``. ``Table`` reports a missing stream as None;
    ``TableV2`` exposes a token either way, and CloudFormation reports that case at deploy time."""
    if stream_arn is None:
        raise ConfigurationError(
            f"{where}: table {table_path} has no stream" + (f"; {hint}" if hint else ""), code=CODE
        )
