"""Reusable constructs of the platform: each carries its secure defaults, settings come in typed.

Constructs never read configuration: a stack is handed its section as frozen dataclasses
(:mod:`stacks.constructs.settings`: ``FunctionSettings``, ``TableSettings``, ...) and passes
them in, with the environment's KMS key and the physical names (which carry the environment
suffix). Import each construct from its module (``stacks.constructs.function``, ...): this
package imports nothing, so reading the configuration never starts the CDK.
"""
