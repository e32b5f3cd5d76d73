"""The patterns: complete serverless applications built from the steps, triggers and resources."""
