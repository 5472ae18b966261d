"""Three LLVM operations numba does not expose, for kernels that reproduce torch's float32 results:
``fma32`` (``a*b + c`` rounded once, ``llvm.fma.f32``), ``bits`` (a float32's int32 bit pattern) and
``float_of_bits`` (the reverse). They vectorise like any other operation. Imported only when numba is."""
from __future__ import annotations

from llvmlite import ir as _ir
from numba.core import cgutils as _cgutils, types as _types
from numba.extending import intrinsic as _intrinsic


@_intrinsic
def fma32(typingctx, a, b, c):
    """float32 ``a*b + c`` rounded once (``llvm.fma.f32``)."""
    def codegen(context, builder, signature, args):
        f = _ir.FloatType()
        fn = _cgutils.get_or_insert_function(builder.module, _ir.FunctionType(f, [f, f, f]), "llvm.fma.f32")
        return builder.call(fn, args)
    return _types.float32(_types.float32, _types.float32, _types.float32), codegen


@_intrinsic
def bits(typingctx, x):
    """The int32 bit pattern of a float32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _ir.IntType(32))
    return _types.int32(_types.float32), codegen


@_intrinsic
def float_of_bits(typingctx, x):
    """The float32 with this int32 bit pattern."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _ir.FloatType())
    return _types.float32(_types.int32), codegen
