/* The smp guest's AP trampoline (guests/smp/trampoline.h), assembled into
 * this guest too: the smp flow starts its AP with INIT, SIPI, SIPI. */
#include "../smp/trampoline.S"
