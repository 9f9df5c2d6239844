"""Server-rendered pages: the manager's console, the resident's portal, the kiosk."""
