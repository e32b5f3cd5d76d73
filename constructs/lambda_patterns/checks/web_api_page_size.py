"""A web API's default ``page_size`` is 1 to 100 items, the most the handler returns in one page."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.PageSize"
MAX_PAGE_SIZE = 100


def check_page_size(where: str, page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"{where}: page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}", code=CODE
        )
