#include "signalbox/upper/upper.h"

#include "signalbox/lower/lower.h"
int upper() { return lower() + 1; }
