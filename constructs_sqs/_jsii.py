"""The few jsii internals the library relies on, in one place.

jsii's Python runtime is not a public API: what is read here (``__jsii_ifaces__``, ``__jsii_proxy_class__``,
the ``_delegates`` of an ``InterfaceDynamicProxy``) and what is repaired here (the ``(*args, **kwargs)``
signature that ``JSIIMeta.__call__`` gives every construct class) is what breaks first when jsii changes, and
``tests/test_public_api.py`` checks both.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

__all__ = ["implements", "keyword_signature"]

_Class = TypeVar("_Class", bound=type)


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
    delegates = value.__dict__.get("_delegates") if type(value).__name__ == "InterfaceDynamicProxy" else None
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
