build-bench/src/dump/render.o: src/dump/render.c src/dump/analysis.h \
 include/heapdump.h /usr/include/graphviz/gvc.h \
 /usr/include/graphviz/types.h /usr/include/graphviz/geom.h \
 /usr/include/graphviz/arith.h /usr/include/graphviz/gvcext.h \
 /usr/include/graphviz/pathgeom.h /usr/include/graphviz/textspan.h \
 /usr/include/graphviz/cgraph.h /usr/include/graphviz/cdt.h \
 /usr/include/graphviz/usershape.h /usr/include/graphviz/gvplugin.h
src/dump/analysis.h:
include/heapdump.h:
/usr/include/graphviz/gvc.h:
/usr/include/graphviz/types.h:
/usr/include/graphviz/geom.h:
/usr/include/graphviz/arith.h:
/usr/include/graphviz/gvcext.h:
/usr/include/graphviz/pathgeom.h:
/usr/include/graphviz/textspan.h:
/usr/include/graphviz/cgraph.h:
/usr/include/graphviz/cdt.h:
/usr/include/graphviz/usershape.h:
/usr/include/graphviz/gvplugin.h:
