// Stands in for Web Forms' OpenLayers chunk (see vite.config.js): a form with a map question shows Web
// Forms' own "map could not be loaded" message in this harness instead of a map.
throw new Error('此测试页不含地图组件：fangpin 的表单没有地图题');
