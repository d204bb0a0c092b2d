"""The cost-optimised, security-hardened platform around the payments pipeline (seed 000).

One module per stack, named after it: ``security`` (``PaymentsSecurity``), ``alerts``,
``storage``, ``network``, ``compute``, ``edge``, ``edge_security`` (GuardDuty and rotated
secrets), ``observability``, ``cost_visibility``, ``parameters``; ``settings.py`` is the
``platform`` configuration section, ``lambdas.py`` the factory of its functions, whose code is
in ``functions/``. Nothing is imported here, so reading settings stays CDK-free.
"""
