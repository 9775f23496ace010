// Keeps catdog_app a valid library while apps/ holds only main.cpp.
