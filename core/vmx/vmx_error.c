#include "vmx/vmx_error.h"

static const char *const messages[VMX_ERROR_COUNT] = {
#define X(name, text) [name] = text,
	VMX_ERRORS(X)
#undef X
};

static const char *const names[VMX_ERROR_COUNT] = {
#define X(name, text) [name] = #name,
	VMX_ERRORS(X)
#undef X
};

const char *vmx_error_message(enum vmx_error err)
{
	return (unsigned)err < VMX_ERROR_COUNT ? messages[err] : "unknown VMX error";
}

const char *vmx_error_name(enum vmx_error err)
{
	return (unsigned)err < VMX_ERROR_COUNT ? names[err] : "VMX_ERR_UNKNOWN";
}
