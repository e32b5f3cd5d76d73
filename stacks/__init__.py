"""The ready stacks this repository's app deploys; each only composes lambda_patterns constructs."""
