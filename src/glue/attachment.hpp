// Kept for files that still include the old name: the attachment contract lives in
// glue/attachment_contract.hpp.
#pragma once
#include "glue/attachment_contract.hpp"
