"""IPython magics (%px, %%px, %pxresult, %autopx, %pxconfig), registered when a Client is created."""

_active = {}


def _register_on_client_creation(client):
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    view = client.direct_view("all")
    view.block = True
    activate(view, "")


def activate(view, suffix=""):
    _active[suffix] = view
