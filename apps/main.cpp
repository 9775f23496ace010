// catdog: the command-line program (placeholder until the trainer lands).
#include <cstdio>
int main() { std::puts("catdog"); return 0; }
