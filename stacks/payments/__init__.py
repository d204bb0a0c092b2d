"""The payment-notification pipeline (seed 001) on the multi-environment base (seed 002).

``payments.py`` holds the ``Payments`` stack, ``settings.py`` its configuration section,
``endpoints.py`` the platform's status and health routes it builds on its API, ``functions/``
the code of its functions. Nothing is imported here, so reading settings stays CDK-free.
"""
