# Writes Tranche's FIX 4.4 dictionary (QuickFIX format): the FIX44.xml jspurefix ships (npm, fix/package.json;
# the same fields and messages as QuickFIX 1.15.1's own) with what Tranche adds to it (docs/fix.md):
#   - TargetStrategy (847) values 1000 TWAP, 1001 ICEBERG, 1002 PEG, 1003 SEEK, 1004 AUTO beside the standard 1 VWAP,
#     2 PARTICIPATE (POV), 3 MINIMIZE_MARKET_IMPACT (IS);
#   - TrancheAlgo (7001, STRING): any registered algo by name, on NewOrderSingle, OrderCancelReplaceRequest and
#     each order of a NewOrderList.
# Usage: cmake -DIN=.../FIX44.xml -DOUT=.../FIX44-tranche.xml -P FixDictionary.cmake
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "${IN} is missing: run scripts/install-deps.sh (npm ci in fix/)")
endif()
file(READ "${IN}" text)
function(replace_once from to)
  string(FIND "${text}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "FixDictionary: '${from}' not found in ${IN}")
  endif()
  string(REPLACE "${from}" "${to}" replaced "${text}")
  set(text "${replaced}" PARENT_SCOPE)
endfunction()
replace_once("<value enum='3' description='MININIZE_MARKET_IMPACT' />"
  "<value enum='3' description='MININIZE_MARKET_IMPACT' />
   <value enum='1000' description='TWAP' />
   <value enum='1001' description='ICEBERG' />
   <value enum='1002' description='PEG' />
   <value enum='1003' description='SEEK' />
   <value enum='1004' description='AUTO' />")
replace_once("<message name='NewOrderSingle' msgcat='app' msgtype='D'>"
  "<message name='NewOrderSingle' msgcat='app' msgtype='D'>
   <field name='TrancheAlgo' required='N' />")
replace_once("<message name='OrderCancelReplaceRequest' msgcat='app' msgtype='G'>"
  "<message name='OrderCancelReplaceRequest' msgcat='app' msgtype='G'>
   <field name='TrancheAlgo' required='N' />")
# After ClOrdID, the group's first field: QuickFIX takes a group's first field as its delimiter.
replace_once("<component name='ListOrdGrp'>
   <group name='NoOrders' required='Y'>
    <field name='ClOrdID' required='Y' />"
  "<component name='ListOrdGrp'>
   <group name='NoOrders' required='Y'>
    <field name='ClOrdID' required='Y' />
    <field name='TrancheAlgo' required='N' />")
replace_once(" </fields>" "  <field number='7001' name='TrancheAlgo' type='STRING' />
 </fields>")
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
