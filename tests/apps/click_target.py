"""A small GTK 3 app the pointer tests aim at: three big coloured buttons and a status label.

Every pointer event it receives is written into the status label (which the test reads back
through AT-SPI): which button, which mouse button, single/double/triple, modifiers, and the
root coordinates of presses, releases and wheel turns.
"""

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

COLOURS = {"red": "#ff0000", "green": "#00ff00", "blue": "#0000ff"}
CLICK_KINDS = {
    Gdk.EventType.BUTTON_PRESS: 1,
    Gdk.EventType._2BUTTON_PRESS: 2,
    Gdk.EventType._3BUTTON_PRESS: 3,
}


def main() -> None:
    GLib.set_prgname("click-target")
    css = Gtk.CssProvider()
    css.load_from_data(
        "".join(
            f"#{n} {{ background: {c}; background-image: none; border: none; }}" for n, c in COLOURS.items()
        ).encode()
    )
    Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), css, Gtk.STYLE_PROVIDER_PRIORITY_USER)

    window = Gtk.Window(title="Click target")
    window.set_default_size(600, 420)
    window.move(200, 150)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=10)
    status = Gtk.Label(label="status: idle")
    box.pack_start(status, False, False, 0)
    row = Gtk.Box(spacing=20)
    state = {"scroll": {}}

    def modifiers(event) -> str:
        names = [
            n
            for n, m in (("ctrl", Gdk.ModifierType.CONTROL_MASK), ("shift", Gdk.ModifierType.SHIFT_MASK))
            if event.state & m
        ]
        return "+".join(names) or "none"

    def pressed(widget, event):
        kind = CLICK_KINDS.get(event.type)
        if kind is not None:
            status.set_text(
                f"status: press {widget.get_name()} button={event.button} count={kind} mods={modifiers(event)} "
                f"at={int(event.x_root)},{int(event.y_root)}"
            )
        return True

    def released(widget, event):
        status.set_text(status.get_text() + f" release={int(event.x_root)},{int(event.y_root)}")
        return True

    def scrolled(widget, event):
        direction = {
            Gdk.ScrollDirection.UP: "up",
            Gdk.ScrollDirection.DOWN: "down",
            Gdk.ScrollDirection.LEFT: "left",
            Gdk.ScrollDirection.RIGHT: "right",
        }.get(event.direction)
        if direction:
            state["scroll"][direction] = state["scroll"].get(direction, 0) + 1
            counts = " ".join(f"{d}={n}" for d, n in sorted(state["scroll"].items()))
            status.set_text(f"status: scroll {widget.get_name()} {counts}")
        return True

    for name in COLOURS:
        area = Gtk.EventBox(name=name)
        area.set_size_request(160, 160)
        area.add_events(Gdk.EventMask.SCROLL_MASK | Gdk.EventMask.BUTTON_PRESS_MASK | Gdk.EventMask.BUTTON_RELEASE_MASK)
        area.connect("button-press-event", pressed)
        area.connect("button-release-event", released)
        area.connect("scroll-event", scrolled)
        row.pack_start(area, True, True, 0)
    box.pack_start(row, True, True, 0)
    window.add(box)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    Gtk.main()


if __name__ == "__main__":
    main()
