#pragma once
// fermata: everything a training program needs, in one include.
#include "autograd/elementwise.h"
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/gradcheck.h"
#include "autograd/linalg.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/softmax.h"
#include "autograd/views.h"
#include "tensor/factory.h"
#include "tensor/philox.h"
#include "tensor/tensor.h"
