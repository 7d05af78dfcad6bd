#include "signalbox/lower/lower.h"
int lower() { return 1; }
