"""The policy: governance rules, one module per concern.

Each module registers pure functions with :func:`governance.registry.rule`. Rules read a
:class:`governance.template.Resource` and the :class:`governance.policy.Policy` and yield
violations or undecidable values; they never import the plugin, the Aspects or the CLI.
"""

#: Ids that were used once and must never be given to a new rule.
RETIRED_IDS: frozenset[str] = frozenset()
