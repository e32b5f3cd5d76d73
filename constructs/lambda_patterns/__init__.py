"""lambda-patterns: AWS CDK v2 constructs for Lambda services, built in five steps.

policy (``FunctionPolicy``) -> role (``FunctionRole``) -> package (``FunctionPackage``) ->
function (``ServerlessFunction``) -> trigger (``lambda_patterns.triggers``), composed by ``LambdaService``.
"""
