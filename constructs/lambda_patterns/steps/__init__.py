"""The five steps of a Lambda service: policy, role, package (with its wheels, platforms and handlers), function, and the service composing them."""
