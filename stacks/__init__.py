"""The estate, one package per system: the typed configuration, the one assembler, the stacks.

``config`` (the configuration, read once) and ``validation`` (how it is read) import no CDK;
``assembly`` builds every system's stacks; ``payments/`` (seed 001/002) and ``platform/``
(seed 000) hold one module per stack, named after the stack; ``constructs/`` is shared; each
system's Lambda code sits in its ``functions/``, the shared layer in ``layer/``.
"""
