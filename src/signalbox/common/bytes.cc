#include "signalbox/common/bytes.h"
