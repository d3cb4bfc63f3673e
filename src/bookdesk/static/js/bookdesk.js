// Bookdesk's browser scripts. Progressive enhancement only: every page works without them.
"use strict";
