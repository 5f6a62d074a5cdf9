// tcdrain: waits until everything written to the terminal on standard
// output (the serial console in the Linux test bed) has been transmitted, so
// that the last lines are not lost when the machine powers off right after.
#include <termios.h>
#include <unistd.h>

int main(void)
{
	return tcdrain(STDOUT_FILENO) == 0 ? 0 : 1;
}
