"""Expressions: <+...> (NextGen, JEXL-like) and ${...} (FirstGen) in project documents.

    render(manifest, ExpressionContext(values={"artifact": {"image": "nginx:1.27"}}))

Modules, in the order text flows through them:
    lexer.py      tokens (the meaning of '>' depends on context)
    grammar.lark  the LALR grammar; parser.py builds nodes.py trees from it
    evaluator.py  evaluates trees against plain data; functions.py is the call allow-list
    render.py     walks documents; modes for unresolved expressions; evaluate()
    inputs.py     <+input> runtime inputs; scan.py finds inputs and expressions
    aliases.py    names that mean the same (<+artifact.X> == <+artifacts.primary.X>)
    firstgen.py   ${DOCKER_IMAGE_NAME}, ${CONTAINER_NAME}, ${EXECUTION_ROLE}, ${serviceVariable.X}
    taint.py      marked strings: computed from a secret, or given at run time
    masking.py    hides secret values (and what was computed from them) in every common form
    shell_quoting.py  run-time values in a ShellScript body become environment references
Every error is a corral.errors.ExpressionError.
"""

from corral.expressions.context import ExpressionContext, Mode
from corral.expressions.firstgen import container_name, substitute_text
from corral.expressions.inputs import InputSpec
from corral.expressions.nodes import Template
from corral.expressions.parser import parse
from corral.expressions.render import evaluate, render
from corral.expressions.scan import find_expressions, find_inputs

__all__ = [
    "ExpressionContext",
    "InputSpec",
    "Mode",
    "Template",
    "container_name",
    "evaluate",
    "find_expressions",
    "find_inputs",
    "parse",
    "render",
    "substitute_text",
]
