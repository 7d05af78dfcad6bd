#pragma once
int stray();
