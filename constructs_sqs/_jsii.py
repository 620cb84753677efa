"""The few jsii and aws-cdk-lib internals the library relies on, in one place.

jsii's Python runtime and aws-cdk-lib's token encoding are not public APIs: what is read here
(``__jsii_ifaces__``, ``__jsii_proxy_class__``, the ``_delegates`` of an ``InterfaceDynamicProxy``; the
``${Token[`` marker of a string and the marker bits of a number that encodes a token), and what is repaired
here (the ``(*args, **kwargs)`` signature that ``JSIIMeta.__call__`` gives every construct class), is what breaks
first when jsii or aws-cdk-lib changes. The validation uses them to answer in Python, without a call into node,
the questions it asks of every argument (is it an ``sqs.IQueue``? is it a token?). ``tests/test_jsii.py`` checks
each against the installed jsii and aws-cdk-lib, and ``tests/patterns/test_public_api.py`` the repaired
signatures.
"""

from __future__ import annotations

import inspect
import struct
from typing import TypeVar

__all__ = [
    "NUMBER_TOKEN_MARKER",
    "STRING_TOKEN_MARKER",
    "implements",
    "is_encoded_token",
    "keyword_signature",
    "type_name",
]

STRING_TOKEN_MARKER = "${Token["
"""How aws-cdk-lib encodes a token inside a string (``Token.as_string``)."""
NUMBER_TOKEN_MARKER = 0xFBFF
"""The top 16 bits of a double that encodes a token (aws-cdk-lib ``createTokenDouble``)."""


def is_encoded_token(value: str | float) -> bool:
    """True when ``value`` is, or holds, a token encoded by aws-cdk-lib, decided in Python.

    Parameters
    ----------
    value:
        A string (a token anywhere in it counts) or a float.

    Returns
    -------
    bool
        Whether aws-cdk-lib would resolve ``value`` at synth.
    """
    if isinstance(value, str):
        return STRING_TOKEN_MARKER in value
    bits: int = struct.unpack("<Q", struct.pack("<d", value))[0]
    return bits >> 48 == NUMBER_TOKEN_MARKER

_Class = TypeVar("_Class", bound=type)
_DYNAMIC_PROXY = "InterfaceDynamicProxy"
"""jsii's class of an object that implements several interfaces and has no Python class of its own."""


def implements(value: object, interface: type) -> bool:
    """True when ``value`` is a jsii object that implements ``interface`` (e.g. ``sqs.IQueue``).

    Answered from the Python classes: a construct class lists its interfaces in ``__jsii_ifaces__``; an
    imported resource is an interface proxy, or a dynamic proxy over several of them.

    Parameters
    ----------
    value:
        Any object.
    interface:
        A jsii interface class such as ``sqs.IQueue``.

    Returns
    -------
    bool
        Whether ``value`` is declared to implement ``interface``.
    """
    proxy_factory = interface.__dict__.get("__jsii_proxy_class__")
    proxy = proxy_factory() if callable(proxy_factory) else None
    delegates = value.__dict__.get("_delegates") if type(value).__name__ == _DYNAMIC_PROXY else None
    classes = [type(d) for d in delegates] if delegates else [type(value)]
    for cls in classes:
        mro = cls.__mro__
        if interface in mro or (proxy is not None and proxy in mro):
            return True
        for base in mro:
            for declared in base.__dict__.get("__jsii_ifaces__", ()):
                if interface in getattr(declared, "__mro__", ()):
                    return True
    return False


def type_name(value: object) -> str:
    """The name of ``value``'s type for a message: ``an imported resource`` for jsii's proxy over several
    interfaces (what ``kms.Alias.from_alias_name`` returns), whose class name means nothing to a user.

    Parameters
    ----------
    value:
        Any object.

    Returns
    -------
    str
        The class name, or ``an imported resource``.
    """
    name = type(value).__name__
    return "an imported resource" if name == _DYNAMIC_PROXY else name


def keyword_signature(cls: _Class) -> _Class:
    """Give a construct class its real signature and ``__init__`` docstring (a class decorator).

    ``JSIIMeta.__call__`` is ``(cls, *args, **kwargs)``, so ``inspect.signature`` and ``help()`` of every
    construct class show ``(*args, **kwargs)``, and an ``__init__`` without a docstring of its own inherits
    ``Construct``'s "Creates a new construct node". Here the class gets the signature of its ``__init__``
    (without ``self``) and ``__init__`` the class docstring, which holds the Parameters section (numpydoc).

    Parameters
    ----------
    cls:
        A construct class defining ``__init__``.

    Returns
    -------
    type
        ``cls``, changed in place.
    """
    init = cls.__dict__.get("__init__")
    if init is None:
        raise TypeError(f"{cls.__name__} defines no __init__ of its own")
    parameters = list(inspect.signature(init).parameters.values())[1:]
    cls.__signature__ = inspect.Signature(parameters, return_annotation=cls.__name__)  # type: ignore[attr-defined]
    if not init.__doc__:
        init.__doc__ = cls.__doc__
    return cls
